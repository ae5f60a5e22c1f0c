"""Sessions: list, read, create, update, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from sandbox.platform.site import API, PlatformSite, body_obj, includes, read_json
from sandbox.platform.store import ApiError, parse_date


def router(site: PlatformSite) -> APIRouter:
    store = site.store
    r = APIRouter(prefix=API)

    @r.get("/Session/{acct}/{event}")
    async def list_sessions(acct: str, event: str, request: Request) -> Response:
        ev = store.event(acct, event)
        tags = "tags" in includes(request)
        items = list(ev.sessions.values())
        if "dateModified_after" in request.query_params:
            after = parse_date(request.query_params["dateModified_after"], "dateModified_after")
            items = [s for s in items if s["dateModified"] > after]
        items.sort(key=lambda s: s["sessionId"])
        return site.envelope(request, items, "sessions", lambda s: store.session_view(ev, s, tags))

    @r.get("/Session/{acct}/{event}/{code}")
    async def get_session(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        s = ev.sessions.get(code)
        if s is None:
            raise ApiError(404, f"session {code!r} not found in event {event!r}")
        return store.session_view(ev, s, "tags" in includes(request))

    @r.post("/Session/{acct}/{event}")
    async def create_session(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        s = store.upsert_session(ev, body_obj(await read_json(request, "session"), "session"))
        return store.session_view(ev, s, True)

    @r.delete("/Session/{acct}/{event}/{code}")
    async def delete_session(acct: str, event: str, code: str) -> dict[str, Any]:
        ev = store.event(acct, event)
        if ev.sessions.pop(code, None) is None:
            raise ApiError(404, f"session {code!r} not found in event {event!r}")
        return {"deleted": code}

    @r.post("/Session/{acct}/{event}/{code}")
    async def update_session(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        s = store.upsert_session(ev, body_obj(await read_json(request, "session"), "session"), code)
        return store.session_view(ev, s, True)

    return r
