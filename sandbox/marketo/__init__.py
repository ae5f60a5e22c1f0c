"""Marketo Engage REST API emulator (its contract: docs/sandbox-vendors.md, "Marketo").

Identity (client credentials in the query, one token per client id returned until it
expires, 602 on the first use after expiry then 601), Sync Leads, lead filter reads and
activity reads with ``nextPageToken``, program member status, smart campaign trigger.
Response-level errors and the rate signals 606 / 615 / 607 are HTTP 200 with
``success:false``, as Marketo sends them. Knobs: ``MarketoSettings``; admin: ``/_sandbox``.

One router per resource, as a real service is laid out: ``identity``, ``leads``,
``activities``, ``programs`` and ``campaigns``; ``site`` holds what they share (settings,
state, the request guard, the pager, the response shapes).
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI

from sandbox import faults
from sandbox.marketo import activities, campaigns, identity, leads, programs
from sandbox.marketo.site import EVENT_STATUSES, STANDARD_FIELDS, MarketoSettings, MarketoState, Site, norm
from sandbox.vendor_common import Index, admin_router, expire_now, make_settings

__all__ = [
    "DEFAULT_PORT",
    "EVENT_STATUSES",
    "STANDARD_FIELDS",
    "MarketoSettings",
    "MarketoState",
    "create_app",
]

DEFAULT_PORT = 8711


def create_app(**overrides: Any) -> FastAPI:
    site = Site(make_settings(MarketoSettings, overrides))
    app = FastAPI(title="Marketo sandbox")
    for resource in (identity, leads, activities, programs, campaigns):
        app.include_router(resource.router(site))
    app.include_router(_admin(site))
    faults.install(app, site.knobs)
    app.state.sandbox = site.st
    return app


def _admin(site: Site) -> APIRouter:
    settings, st, gate = site.settings, site.st, site.gate

    def state() -> dict[str, Any]:
        return {
            "leads": [dict(lead) for _, lead in sorted(st.leads.items())],
            "program_members": list(st.members.values()),
            "campaign_triggers": st.triggers,
            "tokens": [
                {"client_id": t.client_id, "expired": t.expires_at <= time.monotonic()}
                for t in st.tokens.values()
            ],
            "calls_today": st.calls_today,
            "in_flight": st.in_flight,
            "held": gate.waiting,
            "calls_in_window": st.window.count(settings.rate_window_s),
            "counters": st.counters,
            "activities": len(st.activities),
        }

    def reset() -> None:
        site.knobs.rules.clear()
        fresh = MarketoState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))
        st.index = Index(list(settings.dedupe_fields), norm)

    def expire() -> int:
        return expire_now(st.tokens.values())

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/reset-quota")
    async def reset_quota() -> dict[str, int]:
        used, st.calls_today = st.calls_today, 0
        st.window.clear()
        return {"was": used}

    return router


def main() -> None:  # pragma: no cover - manual run
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=DEFAULT_PORT)
