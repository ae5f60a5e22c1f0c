"""Salesforce REST API emulator (its contract: docs/sandbox-vendors.md, "Salesforce").

OAuth2 client credentials (no ``expires_in``; a session times out after inactivity and then
answers 401 INVALID_SESSION_ID), sObject Collections upsert by external ID (<= 200 records,
``allOrNone`` rollback, UpsertResult[] in input order), single sObject create/read (for
Campaign, CampaignMember and friends), SOQL query with ``nextRecordsUrl``, the
``Sforce-Limit-Info`` header and 403 REQUEST_LIMIT_EXCEEDED.

One router per resource, as a real service is laid out: ``oauth``, ``collections``,
``sobjects`` and ``query``; ``site`` holds what they share.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request

from sandbox import faults
from sandbox.salesforce import collections, oauth, query, sobjects
from sandbox.salesforce.site import DAY, SalesforceSettings, SalesforceState, Site
from sandbox.vendor_common import admin_router, make_settings

__all__ = ["DEFAULT_PORT", "SalesforceSettings", "SalesforceState", "create_app"]

DEFAULT_PORT = 8713


def create_app(**overrides: Any) -> FastAPI:
    site = Site(make_settings(SalesforceSettings, overrides))
    app = FastAPI(title="Salesforce sandbox")
    for resource in (oauth, collections, sobjects, query):
        app.include_router(resource.router(site))
    app.include_router(_admin(site))
    faults.install(app, site.knobs)
    app.state.sandbox = site.st
    return app


def _admin(site: Site) -> APIRouter:
    settings, st, gate = site.settings, site.st, site.gate

    def state() -> dict[str, Any]:
        return {
            "records": st.records,
            "api_usage": st.usage.count(DAY),
            "in_flight": len(st.in_flight),
            "held": gate.waiting,
            "sessions": len(st.sessions),
            "counters": st.counters,
        }

    def reset() -> None:
        site.knobs.rules.clear()
        fresh = SalesforceState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))

    def expire() -> int:
        n = len(st.sessions)
        for s in st.sessions.values():
            s.last_used = -1e12
        return n

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/records/{sobject}")
    async def seed_record(sobject: str, request: Request) -> dict[str, str]:
        """Insert a record as-is (no validation), e.g. two with one external ID."""
        rid = site.new_id(sobject)
        site.stamp(sobject, rid, await request.json(), True)
        return {"id": rid}

    @router.post("/locked")
    async def lock(request: Request) -> dict[str, int]:
        """Upserts of these external ID values answer UNABLE_TO_LOCK_ROW until /unlocked."""
        body = await request.json()
        for v in body["values"]:
            st.locked.add((body["sobject"], str(v)))
        return {"locked": len(st.locked)}

    @router.post("/unlocked")
    async def unlock() -> dict[str, int]:
        n = len(st.locked)
        st.locked.clear()
        return {"unlocked": n}

    @router.post("/api-usage")
    async def set_usage(request: Request) -> dict[str, int]:
        """Pretend ``used`` calls were made in the last 24 h."""
        used = int((await request.json())["used"])
        st.usage.clear()
        st.usage.stamps.extend([time.monotonic()] * used)
        return {"used": used}

    return router
