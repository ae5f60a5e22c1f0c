"""Oracle Eloqua emulator: login service, Application REST API and Bulk API 2.0 (docs/sandbox-vendors.md).

One server plays both ``login.eloqua.com`` (``/id``, ``/auth/oauth2/...``) and the pod
(``/api/REST/...``, ``/api/bulk/2.0/...``); ``/id`` names this server as the base URL.
Auth: Basic ``Site\\User:password`` or OAuth2 bearer (authorization code, password,
refresh; 8 h access tokens). Paths under ``/api/`` are matched case-insensitively, as
Eloqua does, and so are fault rules' paths (``/api/REST/…`` and ``/api/rest/…`` alike).

One router per resource, as a real service is laid out: ``auth`` (login service), ``contacts``,
``lists``, ``activities`` (external activities and forms), ``bulk`` (fields, imports) and
``syncs``; ``site`` holds what they share (settings, state, the request guard, the pagers).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from sandbox import faults
from sandbox.eloqua import activities, auth, bulk, contacts, lists, syncs
from sandbox.eloqua.contacts import contact_view
from sandbox.eloqua.lists import list_view
from sandbox.eloqua.site import STANDARD_FIELDS, CaseInsensitiveApi, EloquaSettings, EloquaState, Site
from sandbox.eloqua.syncs import sync_view
from sandbox.vendor_common import admin_router, expire_now, make_settings

__all__ = ["DEFAULT_PORT", "STANDARD_FIELDS", "EloquaSettings", "EloquaState", "create_app"]

DEFAULT_PORT = 8712


def create_app(**overrides: Any) -> FastAPI:
    site = Site(make_settings(EloquaSettings, overrides))
    app = FastAPI(title="Eloqua sandbox")
    for resource in (auth, contacts, lists, activities, bulk, syncs):
        app.include_router(resource.router(site))
    app.include_router(_admin(site))
    faults.install(app, site.knobs)
    app.add_middleware(CaseInsensitiveApi)
    app.state.sandbox = site.st
    return app


def _admin(site: Site) -> APIRouter:
    st, gate = site.st, site.gate

    def state() -> dict[str, Any]:
        return {
            "contacts": [contact_view(c) for _, c in sorted(st.contacts.items())],
            "lists": [{**list_view(x), "members": x["members"]} for x in st.lists.values()],
            "activities": list(st.activities.values()),
            "form_submissions": st.submissions,
            "imports": [{**i["def"], "staged_rows": len(i["staged"])} for i in st.imports.values()],
            "syncs": [sync_view(s) for s in st.syncs.values()],
            "in_flight": st.in_flight,
            "held": gate.waiting,
            "counters": st.counters,
        }

    def reset() -> None:
        site.knobs.rules.clear()
        fresh = EloquaState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))

    def expire() -> int:
        return expire_now(st.access.values())

    router = admin_router(settings=site.settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/expire-refresh-tokens")
    async def expire_refresh() -> dict[str, int]:
        n = len(st.refresh)
        st.refresh.clear()
        return {"expired": n}

    return router
