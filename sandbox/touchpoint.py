"""Touchpoint emulator: the contract defined in docs/touchpoint-api.md (no public facts exist).

Events are keyed by the platform's stable event id (the event code may change); attendees
by platform registration code; sessions by platform session code, each with an ordered list
of related links that a PUT replaces whole.
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import faults as faults_mod

DEFAULT_PORT = 8702
PREFIX = "/api/v1"
ADMIN = faults_mod.ADMIN_PREFIX
ATTENDEE_FIELDS = {
    "first_name": str,
    "last_name": str,
    "email": str,
    "organization": str,
    "job_title": str,
    "attendee_type": str,
    "status": str,
    "event_code": str,
    "custom": dict,
}
SESSION_FIELDS = {
    "title": str,
    "description": str,
    "starts_at": str,
    "ends_at": str,
    "location": str,
}
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class TouchpointError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class TEvent:
    event_id: int
    name: str | None = None
    event_code: str | None = None
    visibility: str = "preview"
    attendees: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def view(self) -> dict[str, Any]:
        return {
            "event_id": self.event_id,
            "name": self.name,
            "event_code": self.event_code,
            "visibility": self.visibility,
            "attendee_count": len(self.attendees),
            "active_attendee_count": sum(1 for a in self.attendees.values() if a["active"]),
            "session_count": len(self.sessions),
        }


class _BearerAuth:
    def __init__(self, app: ASGIApp, tokens: list[str]) -> None:
        self.app = app
        self.tokens = [t.encode() for t in tokens]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX):
            header = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not header[:7].lower() == b"bearer ":
                reason = "missing bearer token"
            else:
                given = header[7:].strip()
                reason = (
                    "" if any(hmac.compare_digest(given, t) for t in self.tokens) else "invalid bearer token"
                )
            if reason:
                resp = JSONResponse(
                    {"error": {"code": "unauthorized", "message": reason}},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="touchpoint"'},
                )
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _check_fields(body: Any, spec: Mapping[str, type], where: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise TouchpointError(422, "invalid_body", f"{where}: body must be a JSON object")
    unknown = sorted(set(body) - set(spec))
    if unknown:
        raise TouchpointError(422, "unknown_field", f"{where}: unknown field(s) {unknown}", unknown[0])
    for k, v in body.items():
        if v is not None and not isinstance(v, spec[k]):
            raise TouchpointError(422, "invalid_field", f"{where}: {k} must be a {spec[k].__name__}", k)
    return body


def _code(value: str, what: str) -> str:
    if not CODE_RE.match(value):
        raise TouchpointError(422, "invalid_key", f"{what} {value!r} must match {CODE_RE.pattern}", what)
    return value


def _page(request: Request, items: list[dict[str, Any]], max_limit: int) -> dict[str, Any]:
    raw_limit = request.query_params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= max_limit:
        raise TouchpointError(422, "invalid_limit", f"limit must be an integer in [1, {max_limit}]", "limit")
    limit = int(raw_limit)
    cursor = request.query_params.get("cursor")
    start = 0
    if cursor:
        try:
            start = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except ValueError as exc:
            raise TouchpointError(
                422, "invalid_cursor", "cursor is not one this API issued", "cursor"
            ) from exc
    chunk = items[start : start + limit]
    nxt = start + limit
    next_cursor = base64.urlsafe_b64encode(str(nxt).encode()).decode() if nxt < len(items) else None
    return {"data": chunk, "next_cursor": next_cursor}


def create_app(
    *,
    tokens: list[str] | None = None,
    max_links: int = 20,
    max_batch: int = 100,
    max_page_size: int = 500,
    fault_seed: int = 0,
) -> FastAPI:
    """``tokens``: accepted bearer tokens (default ``["tp-sandbox-token"]``); ``max_links`` per
    session; ``max_batch`` attendees per batch upsert; ``max_page_size`` for list endpoints."""
    events: dict[int, TEvent] = {}
    counters: dict[str, int] = {}
    app = FastAPI(title="eventsync sandbox: Touchpoint")
    app.state.events = events

    def count(name: str) -> None:
        counters[name] = counters.get(name, 0) + 1

    @app.exception_handler(TouchpointError)
    async def tp_error(_: Request, exc: TouchpointError) -> JSONResponse:
        err: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.field:
            err["field"] = exc.field
        return JSONResponse({"error": err}, status_code=exc.status)

    async def body_of(request: Request) -> Any:
        try:
            return await request.json()
        except ValueError as exc:
            raise TouchpointError(400, "invalid_json", "request body is not valid JSON") from exc

    def event(eid: int, create: bool = False) -> TEvent:
        ev = events.get(eid)
        if ev is None:
            if not create:
                raise TouchpointError(404, "event_not_found", f"event {eid} not found")
            ev = events[eid] = TEvent(eid)
        return ev

    def upsert_attendee(ev: TEvent, code: str, body: Any) -> tuple[dict[str, Any], bool]:
        _code(code, "registration_code")
        data = _check_fields(body, ATTENDEE_FIELDS, f"attendee {code!r}")
        existing = ev.attendees.get(code)
        email = data.get("email", existing["email"] if existing else None)
        if not email or not EMAIL_RE.match(email):
            raise TouchpointError(
                422, "invalid_field", f"attendee {code!r}: email is required and must be valid", "email"
            )
        now = _now()
        if existing is None:
            a: dict[str, Any] = {k: None for k in ATTENDEE_FIELDS}
            a.update({"registration_code": code, "event_id": ev.event_id, "created_at": now, "version": 0})
            ev.attendees[code] = a
        else:
            a = existing
        a.update({k: v for k, v in data.items()})
        a["active"] = True
        a["updated_at"] = now
        a["version"] += 1
        return a, existing is None

    r = APIRouter(prefix=PREFIX)

    @r.get("/events")
    async def list_events(request: Request) -> dict[str, Any]:
        return _page(
            request, [e.view() for e in sorted(events.values(), key=lambda e: e.event_id)], max_page_size
        )

    @r.get("/events/{eid}")
    async def get_event(eid: int) -> dict[str, Any]:
        return event(eid).view()

    @r.put("/events/{eid}")
    async def put_event(eid: int, request: Request) -> dict[str, Any]:
        body = _check_fields(
            await body_of(request), {"name": str, "event_code": str, "visibility": str}, f"event {eid}"
        )
        if body.get("visibility") not in (None, "preview", "live", "archived", "template"):
            raise TouchpointError(
                422, "invalid_field", "visibility must be preview, live, archived or template", "visibility"
            )
        ev = event(eid, create=True)
        for k, v in body.items():
            if v is not None:
                setattr(ev, k, v)
        count("event.put")
        return ev.view()

    @r.put("/events/{eid}/attendees/{code}")
    async def put_attendee(eid: int, code: str, request: Request) -> Response:
        ev = event(eid, create=True)
        a, created = upsert_attendee(ev, code, await body_of(request))
        count("attendee.upsert")
        return JSONResponse(a, status_code=201 if created else 200)

    @r.post("/events/{eid}/attendees/batch")
    async def batch_attendees(eid: int, request: Request) -> dict[str, Any]:
        body = await body_of(request)
        items = body.get("attendees") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise TouchpointError(422, "invalid_body", "body must be {'attendees': [...]}", "attendees")
        if len(items) > max_batch:
            raise TouchpointError(
                413, "batch_too_large", f"{len(items)} attendees, at most {max_batch}", "attendees"
            )
        ev = event(eid, create=True)
        results = []
        for i, item in enumerate(items):
            try:
                if not isinstance(item, dict) or not isinstance(item.get("registration_code"), str):
                    raise TouchpointError(
                        422, "invalid_key", "registration_code is required", "registration_code"
                    )
                fields = {k: v for k, v in item.items() if k != "registration_code"}
                a, created = upsert_attendee(ev, item["registration_code"], fields)
                results.append(
                    {
                        "index": i,
                        "registration_code": a["registration_code"],
                        "result": "created" if created else "updated",
                    }
                )
            except TouchpointError as exc:
                err = {"code": exc.code, "message": exc.message, "field": exc.field}
                results.append({"index": i, "result": "error", "error": err})
        count("attendee.batch")
        return {"results": results}

    @r.post("/events/{eid}/attendees/{code}/deactivate")
    async def deactivate(eid: int, code: str) -> dict[str, Any]:
        a = event(eid).attendees.get(code)
        if a is None:
            raise TouchpointError(404, "attendee_not_found", f"attendee {code!r} not found in event {eid}")
        if a["active"]:
            a["active"] = False
            a["updated_at"] = _now()
            a["version"] += 1
        count("attendee.deactivate")
        return a

    @r.delete("/events/{eid}/attendees/{code}")
    async def delete_attendee(eid: int, code: str) -> Response:
        ev = events.get(eid)
        if ev is not None:
            ev.attendees.pop(code, None)
        count("attendee.delete")
        return Response(status_code=204)

    @r.get("/events/{eid}/attendees")
    async def list_attendees(eid: int, request: Request) -> dict[str, Any]:
        active = request.query_params.get("active")
        items = sorted(event(eid).attendees.values(), key=lambda a: a["registration_code"])
        if active is not None:
            want = active.lower() == "true"
            items = [a for a in items if a["active"] == want]
        return _page(request, items, max_page_size)

    @r.get("/events/{eid}/attendees/{code}")
    async def get_attendee(eid: int, code: str) -> dict[str, Any]:
        a = event(eid).attendees.get(code)
        if a is None:
            raise TouchpointError(404, "attendee_not_found", f"attendee {code!r} not found in event {eid}")
        return a

    @r.put("/events/{eid}/sessions/{code}")
    async def put_session(eid: int, code: str, request: Request) -> Response:
        _code(code, "session_code")
        data = _check_fields(await body_of(request), SESSION_FIELDS, f"session {code!r}")
        ev = event(eid, create=True)
        existing = ev.sessions.get(code)
        if existing is None and not data.get("title"):
            raise TouchpointError(422, "invalid_field", f"session {code!r}: title is required", "title")
        now = _now()
        s = existing or {
            **{k: None for k in SESSION_FIELDS},
            "session_code": code,
            "event_id": eid,
            "related_links": [],
            "created_at": now,
            "version": 0,
        }
        s.update(data)
        s["updated_at"] = now
        s["version"] += 1
        ev.sessions[code] = s
        count("session.upsert")
        return JSONResponse(s, status_code=201 if existing is None else 200)

    @r.put("/events/{eid}/sessions/{code}/related-links")
    async def put_links(eid: int, code: str, request: Request) -> dict[str, Any]:
        s = event(eid).sessions.get(code)
        if s is None:
            raise TouchpointError(404, "session_not_found", f"session {code!r} not found in event {eid}")
        body = await body_of(request)
        links = body.get("links") if isinstance(body, dict) else None
        if not isinstance(links, list):
            raise TouchpointError(422, "invalid_body", "body must be {'links': [{title, url}, ...]}", "links")
        if len(links) > max_links:
            raise TouchpointError(422, "too_many_links", f"{len(links)} links, at most {max_links}", "links")
        clean = []
        for i, link in enumerate(links):
            if not isinstance(link, dict) or set(link) - {"title", "url"}:
                raise TouchpointError(
                    422, "invalid_field", f"links[{i}] must be {{title, url}}", f"links[{i}]"
                )
            title, url = link.get("title"), link.get("url")
            if not isinstance(title, str) or not title.strip() or len(title) > 200:
                raise TouchpointError(
                    422, "invalid_field", f"links[{i}].title must be 1-200 characters", f"links[{i}].title"
                )
            if not isinstance(url, str) or not re.match(r"^https?://\S+$", url) or len(url) > 2048:
                raise TouchpointError(
                    422, "invalid_field", f"links[{i}].url must be an http(s) URL", f"links[{i}].url"
                )
            clean.append({"position": i + 1, "title": title, "url": url})
        s["related_links"] = clean
        s["updated_at"] = _now()
        s["version"] += 1
        count("session.links")
        return s

    @r.get("/events/{eid}/sessions")
    async def list_sessions(eid: int, request: Request) -> dict[str, Any]:
        items = sorted(event(eid).sessions.values(), key=lambda s: s["session_code"])
        return _page(request, items, max_page_size)

    @r.get("/events/{eid}/sessions/{code}")
    async def get_session(eid: int, code: str) -> dict[str, Any]:
        s = event(eid).sessions.get(code)
        if s is None:
            raise TouchpointError(404, "session_not_found", f"session {code!r} not found in event {eid}")
        return s

    @r.delete("/events/{eid}/sessions/{code}")
    async def delete_session(eid: int, code: str) -> Response:
        ev = events.get(eid)
        if ev is not None:
            ev.sessions.pop(code, None)
        count("session.delete")
        return Response(status_code=204)

    app.include_router(r)

    admin = APIRouter(prefix=ADMIN, tags=["sandbox admin"])

    @admin.get("/state")
    async def state() -> dict[str, Any]:
        return {
            "events": {
                str(e.event_id): {
                    **e.view(),
                    "attendees": e.attendees,
                    "sessions": e.sessions,
                }
                for e in events.values()
            },
            "calls": dict(counters),
            "at": time.time(),
        }

    @admin.post("/reset")
    async def reset() -> dict[str, bool]:
        events.clear()
        counters.clear()
        fault_state.rules.clear()
        return {"reset": True}

    app.include_router(admin)
    fault_state = faults_mod.install(app, faults_mod.Faults(fault_seed))
    app.add_middleware(_BearerAuth, tokens=tokens if tokens is not None else ["tp-sandbox-token"])
    return app
