"""HTTP face of the platform emulator (Certain-style API 2.0). See docs/sandbox.md."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import faults as faults_mod
from sandbox.platform.seeding import populate
from sandbox.platform.store import STANDARD_STATUSES, ApiError, Event, Store, fmt_ms, parse_date
from sandbox.platform.webhooks import Dispatcher, WebhookConfig, new_event

DEFAULT_PORT = 8701
API = "/certainExternal/service/v1"
ADMIN = faults_mod.ADMIN_PREFIX


def _profile(s: Store, r: dict[str, Any]) -> dict[str, Any]:
    return s.accounts[s.events[r["eventId"]].account].profiles[r["profileId"]]


ORDER_FIELDS: dict[str, Callable[[Store, dict[str, Any]], Any]] = {
    "dateModified": lambda s, r: r["dateModified"],
    "statusModified": lambda s, r: r["statusModified"],
    "dateCreated": lambda s, r: r["dateCreated"],
    "registrationCode": lambda s, r: r["registrationCode"],
    "registrationStatusLabel": lambda s, r: r["registrationStatusLabel"],
    "pkRegId": lambda s, r: r["pkRegId"],
    "pkProfileId": lambda s, r: r["profileId"],
    "lastName": lambda s, r: _profile(s, r)["lastName"] or "",
    "firstName": lambda s, r: _profile(s, r)["firstName"] or "",
}
DATE_FILTERS = {
    "dateModified_after": ("dateModified", ">"),
    "dateModified_before": ("dateModified", "<"),
    "dateCreated_after": ("dateCreated", ">"),
    "dateCreated_before": ("dateCreated", "<"),
    "statusModified_after": ("statusModified", ">"),
}
ALL_INCLUDES = {"tags", "registration_questions", "reg_properties"}


class _BasicAuth:
    """Pure ASGI so that the check costs little on the hot path."""

    def __init__(self, app: ASGIApp, users: dict[str, str]) -> None:
        self.app = app
        self.users = users

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(API):
            reason = self._check(scope)
            if reason is not None:
                resp = JSONResponse(
                    {"statusCode": 401, "message": reason},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Basic realm="certainExternal"'},
                )
                await resp(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _check(self, scope: Scope) -> str | None:
        header = next((v for k, v in scope["headers"] if k == b"authorization"), None)
        if header is None or not header[:6].lower() == b"basic ":
            return "Authentication required (HTTP Basic)"
        try:
            user, sep, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "Malformed Basic credentials"
        expected = self.users.get(user)
        if not sep or expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            return "Invalid username or password"
        return None


def _int_param(request: Request, name: str, default: int, lo: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ApiError(400, f"query parameter {name!r} must be an integer, got {raw!r}") from exc
    if value < lo:
        raise ApiError(400, f"query parameter {name!r} must be >= {lo}, got {value}")
    return value


def _includes(request: Request) -> set[str]:
    raw = request.query_params.get("includeList") or request.query_params.get("include_list") or ""
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    return ALL_INCLUDES if "all" in parts else parts


async def _json(request: Request, what: str) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ApiError(400, f"{what}: request body is not valid JSON ({exc})") from exc


def _body_obj(body: Any, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ApiError(400, f"{what}: request body must be a JSON object")
    return body


class PopulateBody(BaseModel):
    seed: int = 0
    account: str = "DEMO"
    events: int = Field(default=2, ge=0, le=100)
    registrations_per_event: int = Field(default=2000, ge=0, le=200_000)
    sessions_per_event: int = Field(default=20, ge=0, le=2000)


class AccountBody(BaseModel):
    accountCode: str
    name: str | None = None


class ClockBody(BaseModel):
    advance_ms: int = Field(ge=0)


def create_app(
    *,
    users: dict[str, str] | None = None,
    default_max_results: int = 100,
    max_results_limit: int = 1000,
    start_index_mode: str = "offset",
    bulk_max_records: int = 1000,
    webhook: dict[str, Any] | None = None,
    seed: dict[str, Any] | None = None,
    fault_seed: int = 0,
) -> FastAPI:
    """Settings (all [U] in the facts, so all configurable):

    - ``users``: Basic-auth username -> password (default ``{"sandbox": "sandbox"}``).
    - ``default_max_results`` / ``max_results_limit``: page size when ``max_results`` is
      absent, and the cap a larger request is clamped to (reported in ``maxResults``).
    - ``start_index_mode``: ``"offset"`` (0-based record offset, default) or ``"page"``
      (1-based page number).
    - ``bulk_max_records``: most records one Bulk Registration Upsert accepts (else 400).
    - ``webhook``: initial webhook config (see ``WebhookConfig``).
    - ``seed``: keyword args for ``populate`` to fill the store at creation.
    """
    if start_index_mode not in ("offset", "page"):
        raise ValueError(f"start_index_mode must be 'offset' or 'page', got {start_index_mode!r}")
    dispatcher = Dispatcher(WebhookConfig.model_validate(webhook or {}))
    store = Store()

    def emit(kind: str, ev: Event, key: str, rec: dict[str, Any], extra: dict[str, Any]) -> None:
        rec["seq"] += 1
        cfg = dispatcher.config
        if not cfg.url or kind not in cfg.events:
            return
        if kind.startswith("registration"):
            data = store.registration_view(ev, rec, ALL_INCLUDES)
        else:
            data = store.session_view(ev, rec, True)
        event = new_event(kind, ev.account, ev.code, ev.event_id, key, rec["seq"], data)
        event.update(extra)
        dispatcher.enqueue(event)

    store.emit = emit
    if seed:
        populate(store, **seed)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await dispatcher.start()
        try:
            yield
        finally:
            await dispatcher.stop()

    app = FastAPI(title="eventsync sandbox: platform (Certain-style API 2.0)", lifespan=lifespan)
    app.state.store = store
    app.state.dispatcher = dispatcher

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"statusCode": exc.status, "message": exc.message}, status_code=exc.status)

    def envelope(request: Request, items: list[Any], name: str, view: Callable[[Any], Any]) -> JSONResponse:
        max_results = min(_int_param(request, "max_results", default_max_results, 1), max_results_limit)
        if start_index_mode == "offset":
            start = _int_param(request, "start_index", 0, 0)
        else:
            start = (_int_param(request, "start_index", 1, 1) - 1) * max_results
        chunk = items[start : start + max_results]
        if not chunk:
            return JSONResponse({"statusCode": 404, "message": "No records found"}, status_code=404)
        return JSONResponse(
            {
                "completeCollectionSize": len(items),
                "size": len(chunk),
                "startingIndex": start if start_index_mode == "offset" else start // max_results + 1,
                "maxResults": max_results,
                name: [view(x) for x in chunk],
            }
        )

    r = APIRouter(prefix=API)

    # Registration routes first: routes match in order, and these carry the load.
    # ---- registrations ---------------------------------------------------------------------

    def select_registrations(request: Request, evs: list[Event]) -> list[dict[str, Any]]:
        q = request.query_params
        order = q.get("orderBy")
        key = None
        if order:
            fieldname, _, direction = order.rpartition("_")
            if fieldname not in ORDER_FIELDS or direction not in ("asc", "desc"):
                raise ApiError(
                    400,
                    f"orderBy {order!r}: use <field>_asc or <field>_desc with field in {sorted(ORDER_FIELDS)}",
                )
            key = ORDER_FIELDS[fieldname]
        out: list[dict[str, Any]] = []
        for ev in evs:
            # Each filter is one tight pass: this is the hot path of every list call.
            rows = list(ev.registrations.values())
            for name, (f, op) in DATE_FILTERS.items():
                if name in q:
                    v = parse_date(q[name], name)
                    rows = [g for g in rows if g[f] > v] if op == ">" else [g for g in rows if g[f] < v]
            if "isActive" in q:
                want = q["isActive"].lower() in ("true", "1", "yes")
                rows = [g for g in rows if g["isActive"] == want]
            if "registrationStatusLabel" in q:
                status = q["registrationStatusLabel"]
                rows = [g for g in rows if g["registrationStatusLabel"] == status]
            if "attendeeTypeCode" in q:
                att = q["attendeeTypeCode"]
                rows = [g for g in rows if g["attendeeTypeCode"] == att]
            if q.get("email"):
                email = q["email"].lower()
                profiles = store.accounts[ev.account].profiles
                rows = [g for g in rows if (profiles[g["profileId"]]["email"] or "").lower() == email]
            out += rows
        # Registrations are stored in pkRegId order within an event; across events, merge.
        if len(evs) > 1:
            out.sort(key=lambda g: g["pkRegId"])
        if key is not None:
            # stable, also in reverse, so pkRegId ascending breaks ties and pages stay stable
            k = key
            out.sort(key=lambda g: k(store, g), reverse=order.endswith("_desc"))  # type: ignore[union-attr]
        return out

    @r.get("/Registration/{acct}")
    async def list_account_registrations(acct: str, request: Request) -> Response:
        store.account(acct)
        inc = _includes(request)
        evs = [e for e in store.events.values() if e.account == acct]
        rows = select_registrations(request, evs)
        view_any = lambda g: store.registration_view(store.events[g["eventId"]], g, inc)  # noqa: E731
        return envelope(request, rows, "registrations", view_any)

    @r.get("/Registration/{acct}/{event}")
    async def list_registrations(acct: str, event: str, request: Request) -> Response:
        ev = store.event(acct, event)
        inc = _includes(request)
        rows = select_registrations(request, [ev])
        return envelope(request, rows, "registrations", lambda g: store.registration_view(ev, g, inc))

    @r.get("/Registration/{acct}/{event}/{code}")
    async def get_registration(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        return store.registration_view(ev, store.registration(ev, code), _includes(request))

    @r.post("/Registration/{acct}/{event}")
    async def create_registration(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        ident = request.query_params.get("profileIdentifier")
        allowed = {"EMAIL", "PIN", "EXTERNAL", "SYNC_EMAIL", "SYNC_PIN", "SYNC_EXTERNAL"}
        if ident is not None and ident not in allowed:
            raise ApiError(400, f"profileIdentifier must be one of {sorted(allowed)}, got {ident!r}")
        dup = (request.query_params.get("allowduplicates") or "yes").lower() != "no"
        body = await _json(request, "registration")
        reg = store.create_registration(ev, body, ident, dup)
        return store.registration_view(ev, reg, _includes(request))

    @r.post("/Registration/{acct}/{event}/{code}")
    async def update_registration(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        reg = store.update_registration(
            ev, store.registration(ev, code), await _json(request, "registration")
        )
        return store.registration_view(ev, reg, _includes(request))

    @r.get("/Profile/{acct}/{pin}")
    async def get_profile(acct: str, pin: str) -> Response:
        a = store.account(acct)
        p = store.profile_by_pin(a, pin)
        regs = [
            {"eventCode": ev.code, "eventId": ev.event_id, "registrationCode": g["registrationCode"]}
            for ev, g in store.profile_registrations(a, p["pkProfileId"])
        ]
        return JSONResponse({**p, "registrations": regs})

    @r.post("/Profile/{acct}/{pin}")
    async def update_profile(acct: str, pin: str, request: Request) -> Response:
        """A profile change shows in every registration of the profile, so each of them is
        touched (new dateModified, one registration.updated event); a write that changes no
        field touches nothing."""
        a = store.account(acct)
        p = store.profile_by_pin(a, pin)
        fields = store._check_profile(await _json(request, "profile"), "profile")
        before = dict(p)
        store.update_profile(a, p, fields, "profile")
        if p != before:
            for ev, g in store.profile_registrations(a, p["pkProfileId"]):
                store.touch(ev, g, g["registrationStatusLabel"])
        return JSONResponse(p)

    @r.delete("/Registration/{acct}/{event}/{code}")
    async def delete_registration(acct: str, event: str, code: str) -> dict[str, Any]:
        ev = store.event(acct, event)
        reg = store.registration(ev, code)
        del ev.registrations[code]
        ev.reg_by_profile.pop(reg["profileId"], None)
        return {"deleted": code}

    @r.post("/BulkRegistration/{acct}/{event}")
    async def bulk_upsert(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        body = _body_obj(await _json(request, "bulk registration upsert"), "bulk registration upsert")
        match_by = body.get("matchBy") or request.query_params.get("matchBy") or "email"
        if match_by not in ("email", "externalKey", "pin"):
            raise ApiError(400, f"matchBy must be 'email', 'externalKey' or 'pin', got {match_by!r}")
        records = body.get("registrations")
        if not isinstance(records, list):
            raise ApiError(400, "bulk registration upsert: 'registrations' must be a list")
        if len(records) > bulk_max_records:
            raise ApiError(
                400, f"bulk registration upsert: {len(records)} records, at most {bulk_max_records}"
            )
        acct_obj = store.account(acct)
        results = []
        counts = {"created": 0, "updated": 0, "failed": 0}
        for i, rec in enumerate(records):
            where = f"registrations[{i}]"
            try:
                if not isinstance(rec, dict):
                    raise ApiError(400, f"{where}: must be an object")
                raw_prof = rec.get("profile")
                prof: dict[str, Any] = raw_prof if isinstance(raw_prof, dict) else {}
                key = prof.get(match_by)
                if not key:
                    results.append(
                        {
                            "index": i,
                            "status": "failed",
                            "errors": [
                                {
                                    "code": "MISSING_MATCH_KEY",
                                    "message": f"{where}: profile.{match_by} is required",
                                }
                            ],
                        }
                    )
                    counts["failed"] += 1
                    continue
                profile = store.match_profile(acct_obj, match_by, prof)
                code = ev.reg_by_profile.get(profile["pkProfileId"]) if profile else None
                if code is not None:
                    reg = store.update_registration(ev, ev.registrations[code], rec, where=where)
                    status = "updated"
                else:
                    ident = {"email": "SYNC_EMAIL", "pin": "SYNC_PIN", "externalKey": "SYNC_EXTERNAL"}[
                        match_by
                    ]
                    reg = store.create_registration(ev, rec, ident, False, where=where)
                    status = "created"
                counts[status] += 1
                results.append(
                    {
                        "index": i,
                        "status": status,
                        "registrationCode": reg["registrationCode"],
                        "pkRegId": reg["pkRegId"],
                        "errors": [],
                    }
                )
            except ApiError as exc:
                counts["failed"] += 1
                results.append(
                    {"index": i, "status": "failed", "errors": [{"code": "INVALID", "message": exc.message}]}
                )
        return {"matchBy": match_by, **counts, "results": results}

    @r.post("/MassAction/{acct}/{event}/reassignStatus")
    async def reassign_status(acct: str, event: str, request: Request) -> dict[str, Any]:
        """Re-sets the status of the selected registrations (to ``statusLabel``, or to the
        status each already has) and touches their dateModified, as the UI mass action does."""
        ev = store.event(acct, event)
        body = _body_obj(await _json(request, "reassignStatus"), "reassignStatus")
        codes = body.get("registrationCodes")
        from_status = body.get("fromStatusLabel")
        to_status = body.get("statusLabel")
        if to_status is not None and store.status_info(ev, to_status) is None:
            raise ApiError(
                400, f"reassignStatus: statusLabel {to_status!r} is not a status of event {event!r}"
            )
        if codes is None:
            regs = list(ev.registrations.values())
        elif isinstance(codes, list):
            missing = [c for c in codes if c not in ev.registrations]
            if missing:
                raise ApiError(400, f"reassignStatus: unknown registrationCodes {missing[:10]}")
            regs = [ev.registrations[c] for c in codes]
        else:
            raise ApiError(400, "reassignStatus: 'registrationCodes' must be a list or absent (= all)")
        if from_status is not None:
            regs = [g for g in regs if g["registrationStatusLabel"] == from_status]
        for reg in regs:
            before = reg["registrationStatusLabel"]
            if to_status is not None:
                reg["registrationStatusLabel"] = to_status
            store.touch(ev, reg, before)
        return {"affected": len(regs), "registrationCodes": [g["registrationCode"] for g in regs]}

    # ---- account, tags, account-level statuses ---------------------------------------------

    @r.get("/Account/{acct}")
    async def get_account(acct: str) -> dict[str, Any]:
        a = store.account(acct)
        events = sorted((e for e in store.events.values() if e.account == acct), key=lambda e: e.event_id)
        return {"accountCode": a.code, "name": a.name, "eventCount": len(events)}

    @r.get("/Tag/{acct}")
    async def list_tags(acct: str, request: Request) -> Response:
        a = store.account(acct)
        obj = request.query_params.get("object")
        tags = [t for t in a.tags.values() if obj is None or obj in t["objects"]]
        return envelope(request, tags, "tags", dict)

    @r.post("/Tag/{acct}")
    async def create_tag(acct: str, request: Request) -> dict[str, Any]:
        return store.create_tag(store.account(acct), _body_obj(await _json(request, "tag"), "tag"))

    @r.get("/AccountRegistrationStatus/{acct}")
    async def account_statuses(acct: str, request: Request) -> Response:
        a = store.account(acct)
        return envelope(
            request, store.status_views(a, None, "tags" in _includes(request)), "registrationStatuses", dict
        )

    @r.post("/AccountRegistrationStatus/{acct}/{label}")
    async def tag_standard_status(acct: str, label: str, request: Request) -> dict[str, Any]:
        a = store.account(acct)
        if label not in {s for s, _ in STANDARD_STATUSES}:
            raise ApiError(404, f"{label!r} is not a standard registration status")
        body = _body_obj(await _json(request, "status"), "status")
        a.standard_status_tags[label] = store.check_tags(
            a, body.get("tags", []), "RegistrationStatus", f"status {label!r}"
        )
        return next(s for s in store.status_views(a, None, True) if s["label"] == label)

    # ---- events ------------------------------------------------------------------------------

    @r.get("/Event/{acct}")
    async def list_events(acct: str, request: Request) -> Response:
        store.account(acct)
        tags = "tags" in _includes(request)
        evs = sorted((e for e in store.events.values() if e.account == acct), key=lambda e: e.event_id)
        return envelope(request, evs, "events", lambda e: store.event_view(e, tags))

    @r.get("/Event/{acct}/{event}")
    async def get_event(acct: str, event: str, request: Request) -> dict[str, Any]:
        return store.event_view(store.event(acct, event), "tags" in _includes(request))

    @r.post("/Event/{acct}")
    async def create_event(acct: str, request: Request) -> dict[str, Any]:
        ev = store.create_event(store.account(acct), _body_obj(await _json(request, "event"), "event"))
        return store.event_view(ev, True)

    @r.post("/Event/{acct}/{event}")
    async def update_event(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.update_event(store.event(acct, event), _body_obj(await _json(request, "event"), "event"))
        return store.event_view(ev, True)

    # ---- sessions ----------------------------------------------------------------------------

    @r.get("/Session/{acct}/{event}")
    async def list_sessions(acct: str, event: str, request: Request) -> Response:
        ev = store.event(acct, event)
        tags = "tags" in _includes(request)
        items = list(ev.sessions.values())
        if "dateModified_after" in request.query_params:
            after = parse_date(request.query_params["dateModified_after"], "dateModified_after")
            items = [s for s in items if s["dateModified"] > after]
        items.sort(key=lambda s: s["sessionId"])
        return envelope(request, items, "sessions", lambda s: store.session_view(ev, s, tags))

    @r.get("/Session/{acct}/{event}/{code}")
    async def get_session(acct: str, event: str, code: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        s = ev.sessions.get(code)
        if s is None:
            raise ApiError(404, f"session {code!r} not found in event {event!r}")
        return store.session_view(ev, s, "tags" in _includes(request))

    @r.post("/Session/{acct}/{event}")
    async def create_session(acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = store.event(acct, event)
        s = store.upsert_session(ev, _body_obj(await _json(request, "session"), "session"))
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
        s = store.upsert_session(ev, _body_obj(await _json(request, "session"), "session"), code)
        return store.session_view(ev, s, True)

    # ---- per-event catalog objects (statuses, attendee types, questions, ...) --------------

    @r.get("/{obj}/{acct}/{event}")
    async def list_catalog(obj: str, acct: str, event: str, request: Request) -> Response:
        ev = _catalog_event(obj, acct, event)
        tags = "tags" in _includes(request)
        if obj == "RegistrationStatus":
            items = store.status_views(store.account(acct), ev, tags)
            return envelope(request, items, "registrationStatuses", dict)
        names = {
            "AttendeeType": "attendeeTypes",
            "Question": "questions",
            "CustomProperty": "customProperties",
            "SessionCustomField": "customFields",
        }
        return envelope(request, store.catalog_views(obj, ev, tags), names[obj], dict)

    @r.get("/{obj}/{acct}/{event}/{key}")
    async def get_catalog(obj: str, acct: str, event: str, key: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.catalog_item(obj, ev, key)
        view = {k: v for k, v in item.items() if k != "tags"}
        if "tags" in _includes(request):
            view["tags"] = store.tag_view(store.account(acct), item["tags"])
        return view

    @r.post("/{obj}/{acct}/{event}")
    async def create_catalog(obj: str, acct: str, event: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.upsert_catalog(obj, ev, _body_obj(await _json(request, obj), obj))
        return {**item, "tags": store.tag_view(store.account(acct), item["tags"])}

    @r.post("/{obj}/{acct}/{event}/{key}")
    async def update_catalog(obj: str, acct: str, event: str, key: str, request: Request) -> dict[str, Any]:
        ev = _catalog_event(obj, acct, event)
        item = store.upsert_catalog(obj, ev, _body_obj(await _json(request, obj), obj), key)
        return {**item, "tags": store.tag_view(store.account(acct), item["tags"])}

    def _catalog_event(obj: str, acct: str, event: str) -> Event:
        if obj not in Store.CATALOG:
            raise ApiError(404, f"unknown object {obj!r}")
        return store.event(acct, event)

    app.include_router(r)

    # ---- sandbox admin ---------------------------------------------------------------------

    admin = APIRouter(prefix=ADMIN, tags=["sandbox admin"])

    @admin.get("/state")
    async def state() -> dict[str, Any]:
        return {
            "accounts": sorted(store.accounts),
            "events": [
                {
                    "accountCode": e.account,
                    "eventCode": e.code,
                    "eventId": e.event_id,
                    "registrations": len(e.registrations),
                    "sessions": len(e.sessions),
                }
                for e in sorted(store.events.values(), key=lambda e: e.event_id)
            ],
            "clock": fmt_ms(store.clock.now()),
            "webhooks": {"pending": dispatcher.pending(), "logged": len(dispatcher.log)},
        }

    @admin.post("/reset")
    async def reset() -> dict[str, bool]:
        fresh = Store(emit)
        store.__dict__.update(fresh.__dict__)
        dispatcher.reset()
        fault_state.rules.clear()
        return {"reset": True}

    @admin.post("/populate")
    async def populate_route(body: PopulateBody) -> dict[str, Any]:
        return populate(store, **body.model_dump())

    @admin.post("/accounts")
    async def add_account(body: AccountBody) -> dict[str, str]:
        a = store.create_account(body.accountCode, body.name)
        return {"accountCode": a.code, "name": a.name}

    @admin.post("/clock")
    async def advance_clock(body: ClockBody) -> dict[str, str]:
        store.clock.offset_ms += body.advance_ms
        return {"now": fmt_ms(store.clock.now())}

    @admin.get("/webhooks")
    async def get_webhooks() -> WebhookConfig:
        return dispatcher.config

    @admin.put("/webhooks")
    async def put_webhooks(cfg: WebhookConfig) -> WebhookConfig:
        dispatcher.configure(cfg)
        return cfg

    @admin.get("/webhooks/deliveries")
    async def deliveries(
        state: str | None = None, type: str | None = None, recordKey: str | None = None
    ) -> dict[str, Any]:
        items = [
            d.view()
            for d in dispatcher.log
            if (state is None or d.state == state)
            and (type is None or d.event["type"] == type)
            and (recordKey is None or d.event["recordKey"] == recordKey)
        ]
        return {"count": len(items), "pending": dispatcher.pending(), "deliveries": items}

    @admin.delete("/webhooks/deliveries")
    async def clear_deliveries() -> dict[str, int]:
        n = len(dispatcher.log)
        dispatcher.reset()
        return {"cleared": n}

    @admin.post("/webhooks/drain")
    async def drain(timeout_s: float = Query(30.0, alias="timeout", le=300)) -> dict[str, Any]:
        done = await dispatcher.drain(timeout_s)
        return {"drained": done, "pending": dispatcher.pending()}

    app.include_router(admin)
    fault_state = faults_mod.install(app, faults_mod.Faults(fault_seed))
    app.add_middleware(_BasicAuth, users=users if users is not None else {"sandbox": "sandbox"})
    return app


def seed(app: FastAPI, **kwargs: Any) -> dict[str, Any]:
    """Fill a platform app built by ``create_app`` (see ``populate`` for the arguments)."""
    return populate(app.state.store, **kwargs)
