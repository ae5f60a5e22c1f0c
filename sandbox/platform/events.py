"""Events: list, read, create, update."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox.platform.site import API, PlatformSite, body_obj, includes, read_json


def router(site: PlatformSite) -> APIRouter:
    store = site.store
    r = APIRouter(prefix=API)

    @r.get("/Event/{acct}")
    async def list_events(acct: str, request: Request) -> Response:
        store.account(acct)
        tags = "tags" in includes(request)
        evs = sorted((e for e in store.events.values() if e.account == acct), key=lambda e: e.event_id)
        return site.envelope(request, evs, "events", lambda e: store.event_view(e, tags))

    @r.get("/Event/{acct}/{event}")
    async def get_event(acct: str, event: str, request: Request) -> dict[str, Any]:
        return store.event_view(store.event(acct, event), "tags" in includes(request))

    @r.post("/Event/{acct}")
    async def create_event(acct: str, request: Request) -> dict[str, Any]:
        ev = store.create_event(store.account(acct), body_obj(await read_json(request, "event"), "event"))
        return store.event_view(ev, True)

    @r.post("/Event/{acct}/{event}")
    async def update_event(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.update_event(
            store.event(acct, event), body_obj(await read_json(request, "event"), "event")
        )
        return store.event_view(ev, True)

    return r
