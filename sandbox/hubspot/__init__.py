"""HubSpot CRM v3 emulator (its contract: docs/sandbox-vendors.md, "HubSpot").

Private-app bearer tokens and OAuth (authorization code, refresh; 30 min access tokens),
contacts batch upsert by a unique ``idProperty`` with ``new`` on created results and
per-input ``errors``/``numErrors``, contact list paging with ``paging.next.after``, and the
429 with ``policyName`` TEN_SECONDLY_ROLLING or DAILY plus ``X-HubSpot-RateLimit-*`` headers.

One router per resource, as a real service is laid out: ``oauth`` and ``contacts``; ``site``
holds what they share.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from sandbox import faults
from sandbox.hubspot import contacts, oauth
from sandbox.hubspot.site import STANDARD_PROPERTIES, HubSpotSettings, HubSpotState, Site, norm
from sandbox.vendor_common import Index, admin_router, expire_now, make_settings

__all__ = ["DEFAULT_PORT", "STANDARD_PROPERTIES", "HubSpotSettings", "HubSpotState", "create_app"]

DEFAULT_PORT = 8714


def create_app(**overrides: Any) -> FastAPI:
    site = Site(make_settings(HubSpotSettings, overrides))
    app = FastAPI(title="HubSpot sandbox")
    for resource in (oauth, contacts):
        app.include_router(resource.router(site))
    app.include_router(_admin(site))
    faults.install(app, site.knobs)
    app.state.sandbox = site.st
    return app


def _admin(site: Site) -> APIRouter:
    settings, st, gate = site.settings, site.st, site.gate

    def state() -> dict[str, Any]:
        return {
            "contacts": [{"id": cid, **c} for cid, c in sorted(st.contacts.items())],
            "daily_used": st.daily_used,
            "calls_in_window": st.window.count(settings.burst_window_s),
            "in_flight": st.in_flight,
            "held": gate.waiting,
            "counters": st.counters,
            "oauth_tokens": len(st.access_tokens),
        }

    def reset() -> None:
        site.knobs.rules.clear()
        fresh = HubSpotState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))
        st.index = Index(list(settings.unique_properties), norm)
        site.rng.seed(settings.seed)

    def expire() -> int:
        return expire_now(st.access_tokens.values())

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/reset-daily")
    async def reset_daily() -> dict[str, int]:
        used, st.daily_used = st.daily_used, 0
        st.window.clear()
        return {"was": used}

    return router
