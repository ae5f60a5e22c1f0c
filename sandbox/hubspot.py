"""HubSpot CRM v3 emulator (its contract: docs/sandbox-vendors.md, "HubSpot").

Private-app bearer tokens and OAuth (authorization code, refresh; 30 min access tokens),
contacts batch upsert by a unique ``idProperty`` with ``new`` on created results and
per-input ``errors``/``numErrors``, contact list paging with ``paging.next.after``, and the
429 with ``policyName`` TEN_SECONDLY_ROLLING or DAILY plus ``X-HubSpot-RateLimit-*`` headers.
"""

from __future__ import annotations

import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from sandbox import faults
from sandbox.vendor_common import (
    Gate,
    Index,
    SlidingWindow,
    admin_router,
    expire_now,
    form_fields,
    make_settings,
    valid_email,
)

DEFAULT_PORT = 8714

STANDARD_PROPERTIES = (
    "email firstname lastname company jobtitle phone city country website lifecyclestage".split()
)


@dataclass
class HubSpotSettings:
    private_app_tokens: list[str] = field(default_factory=lambda: ["pat-na1-sandbox-0000"])
    client_id: str = "sandbox-hubspot-client"
    client_secret: str = "sandbox-hubspot-secret"
    redirect_uri: str = "http://127.0.0.1/oauth/callback"
    access_token_ttl_s: float = 1800.0
    ten_secondly_limit: int = 100  # requests per burst window (Free/Starter)
    burst_window_s: float = 10.0
    daily_limit: int = 250_000  # reset only through /_sandbox/reset or /_sandbox/reset-daily
    max_batch: int = 100
    max_page_size: int = 100
    extra_properties: list[str] = field(default_factory=lambda: ["registration_code", "event_status"])
    unique_properties: list[str] = field(default_factory=lambda: ["email", "registration_code"])
    # Upsert answers 200 when every input succeeded; with errors, this status ([U]: the docs
    # name 207 only for batch create).
    partial_failure_status: int = 207
    # HubSpot does not promise results in input order; the emulator shuffles them (seeded).
    shuffle_results: bool = True
    seed: int = 0


@dataclass
class OAuthToken:
    value: str
    expires_at: float


@dataclass
class HubSpotState:
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 101
    access_tokens: dict[str, OAuthToken] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    refresh_tokens: set[str] = field(default_factory=set)
    window: SlidingWindow = field(default_factory=SlidingWindow)
    daily_used: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    index: Index | None = None

    def count(self, signal: str) -> None:
        self.counters[signal] = self.counters.get(signal, 0) + 1


def _iso(ts: float | None = None) -> str:
    return (
        datetime.fromtimestamp(ts or time.time(), UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _error(status: int, category: str, message: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    return JSONResponse(
        {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        },
        status_code=status,
        headers=headers,
    )


def _norm(prop: str, value: Any) -> str:
    return str(value).lower() if prop == "email" else str(value)


def create_app(**overrides: Any) -> FastAPI:
    settings = make_settings(HubSpotSettings, overrides)
    st = HubSpotState()
    st.index = Index(list(settings.unique_properties), _norm)
    gate = Gate()
    knobs = faults.Faults()
    rng = random.Random(settings.seed)
    app = FastAPI(title="HubSpot sandbox")

    # ---------------------------------------------------------------- oauth
    @app.get("/oauth/authorize")
    async def authorize(client_id: str, redirect_uri: str, scope: str = "", state: str = "") -> Response:
        """No consent screen: the sandbox approves at once and redirects with a code."""
        if client_id != settings.client_id:
            return _error(400, "BAD_CLIENT_ID", "unknown client_id")
        code = secrets.token_hex(16)
        st.codes[code] = redirect_uri
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302
        )

    async def token(request: Request) -> Response:
        form = await form_fields(request)

        def oauth_error(status: str, error: str, message: str) -> JSONResponse:
            return JSONResponse(
                {
                    "status": status,
                    "message": message,
                    "correlationId": str(uuid.uuid4()),
                    "error": error,
                    "error_description": message,
                },
                status_code=400,
            )

        if form.get("client_id") != settings.client_id or form.get("client_secret") != settings.client_secret:
            return oauth_error("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id or secret")
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = str(form.get("code", ""))
            if st.codes.get(code) is None or st.codes[code] != form.get("redirect_uri"):
                return oauth_error("BAD_AUTH_CODE", "invalid_grant", "missing or invalid auth code")
            del st.codes[code]
            refresh = str(uuid.uuid4())
            st.refresh_tokens.add(refresh)
        elif grant == "refresh_token":
            refresh = str(form.get("refresh_token", ""))
            if refresh not in st.refresh_tokens:
                return oauth_error("BAD_REFRESH_TOKEN", "invalid_grant", "missing or invalid refresh token")
        else:
            return oauth_error(
                "BAD_GRANT_TYPE", "unsupported_grant_type", f"unsupported grant_type {grant!r}"
            )
        access = "CN" + secrets.token_urlsafe(90)[:118]
        st.access_tokens[access] = OAuthToken(access, time.monotonic() + settings.access_token_ttl_s)
        st.count("tokens_issued")
        return JSONResponse(
            {
                "token_type": "bearer",
                "refresh_token": refresh,
                "access_token": access,
                "expires_in": int(settings.access_token_ttl_s),
            }
        )

    for path in ("/oauth/v1/token", "/oauth/v3/token", "/oauth/2026-03/token"):
        app.add_api_route(path, token, methods=["POST"])

    # ---------------------------------------------------------------- guard
    def _limit_headers() -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Max": str(settings.ten_secondly_limit),
            "X-HubSpot-RateLimit-Remaining": str(
                max(0, settings.ten_secondly_limit - st.window.count(settings.burst_window_s))
            ),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(settings.burst_window_s * 1000)),
            "X-HubSpot-RateLimit-Daily": str(settings.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, settings.daily_limit - st.daily_used)),
        }

    async def guarded(request: Request, work: Any) -> Response:
        auth = request.headers.get("authorization", "")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if value not in settings.private_app_tokens:
            tok = st.access_tokens.get(value)
            if tok is None:
                st.count("401")
                return _error(
                    401,
                    "INVALID_AUTHENTICATION",
                    "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
                )
            if tok.expires_at <= time.monotonic():
                st.count("401_expired")
                ago = max(1, int((time.monotonic() - tok.expires_at) / 60))
                return _error(
                    401,
                    "EXPIRED_AUTHENTICATION",
                    f"The OAuth token used to make this call expired {ago} minute(s) ago.",
                )
        if st.daily_used >= settings.daily_limit:
            st.count("429_DAILY")
            return _error(
                429,
                "RATE_LIMITS",
                "You have reached your daily limit.",
                errorType="RATE_LIMIT",
                policyName="DAILY",
                headers=_limit_headers(),
            )
        if not st.window.try_hit(settings.ten_secondly_limit, settings.burst_window_s):
            st.count("429_TEN_SECONDLY_ROLLING")
            return _error(
                429,
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
                errorType="RATE_LIMIT",
                policyName="TEN_SECONDLY_ROLLING",
                headers=_limit_headers(),
            )
        st.daily_used += 1
        st.in_flight += 1
        try:
            await gate.wait()
            response: Response = await work()
        finally:
            st.in_flight -= 1
        response.headers.update(_limit_headers())
        return response

    def _known() -> set[str]:
        return {*STANDARD_PROPERTIES, *settings.extra_properties}

    def _view(cid: int, props: list[str] | None) -> dict[str, Any]:
        c = st.contacts[cid]
        names = props or ["email", "firstname", "lastname"]
        shown = {k: c["properties"].get(k) for k in names}
        shown.update(
            hs_object_id=str(cid),
            createdate=c["createdAt"],
            lastmodifieddate=c["updatedAt"],
        )
        return {
            "id": str(cid),
            "properties": shown,
            "createdAt": c["createdAt"],
            "updatedAt": c["updatedAt"],
            "archived": False,
        }

    # ---------------------------------------------------------------- batch upsert
    async def batch_upsert(request: Request) -> Response:
        async def work() -> Response:
            try:
                body = await request.json()
            except ValueError:
                return _error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1")
            inputs = body.get("inputs") if isinstance(body, dict) else None
            if not isinstance(inputs, list) or not inputs:
                return _error(400, "VALIDATION_ERROR", "Invalid input: 'inputs' must be a non-empty array")
            if len(inputs) > settings.max_batch:
                return _error(
                    400,
                    "VALIDATION_ERROR",
                    f"Batch input size {len(inputs)} exceeds the maximum of {settings.max_batch}",
                    context={"maxInputs": [str(settings.max_batch)]},
                )
            keys: list[tuple[str, str]] = []
            for n, item in enumerate(inputs):
                if not isinstance(item, dict) or not item.get("idProperty") or item.get("id") in (None, ""):
                    return _error(400, "VALIDATION_ERROR", f"inputs[{n}]: 'idProperty' and 'id' are required")
                if item["idProperty"] not in settings.unique_properties:
                    return _error(
                        400,
                        "VALIDATION_ERROR",
                        f"inputs[{n}]: idProperty '{item['idProperty']}' is not a unique-value property",
                    )
                keys.append((item["idProperty"], _norm(item["idProperty"], item["id"])))
            dups = sorted({k[1] for k in keys if keys.count(k) > 1})
            if dups:
                return _error(400, "VALIDATION_ERROR", f"Duplicate IDs found in batch input: {dups}")
            started = _iso()
            results, errors = [], []
            for item in inputs:
                res, err = _upsert_one(item)
                if res is not None:
                    results.append(res)
                if err is not None:
                    errors.append(err)
            if settings.shuffle_results:
                rng.shuffle(results)
            out: dict[str, Any] = {
                "status": "COMPLETE",
                "results": results,
                "requestedAt": started,
                "startedAt": started,
                "completedAt": _iso(),
                "links": {},
            }
            if errors:
                out["errors"] = errors
                out["numErrors"] = len(errors)
            return JSONResponse(out, status_code=settings.partial_failure_status if errors else 200)

        return await guarded(request, work)

    def _upsert_one(item: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        prop, key = item["idProperty"], item["id"]
        props = dict(item.get("properties") or {})
        trace = item.get("objectWriteTraceId")
        ctx: dict[str, Any] = {"ids": [str(key)]}
        if trace:
            ctx["objectWriteTraceId"] = [trace]
        unknown = [p for p in props if p not in _known()]
        if unknown:
            return None, {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: {unknown}",
                "errors": [
                    {
                        "message": f'Property "{p}" does not exist',
                        "code": "PROPERTY_DOESNT_EXIST",
                        "context": {"propertyName": [p]},
                    }
                    for p in unknown
                ],
                "context": ctx,
            }
        if prop == "email":
            props.setdefault("email", key)
        email = props.get("email")
        if email not in (None, "") and not valid_email(email):
            return None, {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"Property values were not valid: Email address {email} is invalid",
                "errors": [
                    {
                        "message": f"Email address {email} is invalid",
                        "code": "INVALID_EMAIL",
                        "context": {"propertyName": ["email"]},
                    }
                ],
                "context": ctx,
            }
        assert st.index is not None
        if st.index.covers(prop):
            found = st.index.find(prop, key)
        else:
            found = [
                i
                for i, c in st.contacts.items()
                if _norm(prop, c["properties"].get(prop, "")) == _norm(prop, key)
            ]
        match = found[0] if found else None
        now = _iso()
        created = match is None
        if match is None:
            match = st.next_id
            st.next_id += 1
            st.contacts[match] = {"properties": {prop: key}, "createdAt": now, "updatedAt": now}
        else:
            st.index.remove(match, st.contacts[match]["properties"])
        st.contacts[match]["properties"].update(props)
        st.contacts[match]["updatedAt"] = now
        st.index.add(match, st.contacts[match]["properties"])
        res = _view(match, sorted(st.contacts[match]["properties"]))
        res["new"] = created
        if trace:
            res["objectWriteTraceId"] = trace
        return res, None

    for path in ("/crm/v3/objects/contacts/batch/upsert", "/crm/objects/2026-03/contacts/batch/upsert"):
        app.add_api_route(path, batch_upsert, methods=["POST"])

    # ---------------------------------------------------------------- reads
    async def list_contacts(request: Request) -> Response:
        async def work() -> Response:
            q = request.query_params
            try:
                limit = int(q.get("limit", "10"))
                after = int(q.get("after", "0"))
            except ValueError:
                return _error(400, "VALIDATION_ERROR", "limit and after must be integers")
            if not 1 <= limit <= settings.max_page_size:
                return _error(
                    400, "VALIDATION_ERROR", f"limit must be between 1 and {settings.max_page_size}"
                )
            props = [p for p in q.get("properties", "").split(",") if p] or None
            ids = [cid for cid in sorted(st.contacts) if cid > after]
            page = ids[:limit]
            out: dict[str, Any] = {"results": [_view(cid, props) for cid in page]}
            if len(ids) > limit:
                nxt = str(page[-1])
                link = str(request.url.include_query_params(after=nxt))
                out["paging"] = {"next": {"after": nxt, "link": link}}
            return JSONResponse(out)

        return await guarded(request, work)

    async def get_contact(request: Request, contact_id: str) -> Response:
        async def work() -> Response:
            id_prop = request.query_params.get("idProperty")
            props = [p for p in request.query_params.get("properties", "").split(",") if p] or None
            if id_prop:
                cid = next(
                    (
                        i
                        for i, c in st.contacts.items()
                        if _norm(id_prop, c["properties"].get(id_prop, "")) == _norm(id_prop, contact_id)
                    ),
                    None,
                )
            else:
                cid = int(contact_id) if contact_id.isdigit() and int(contact_id) in st.contacts else None
            if cid is None:
                return _error(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
            return JSONResponse(_view(cid, props))

        return await guarded(request, work)

    app.add_api_route("/crm/v3/objects/contacts", list_contacts, methods=["GET"])
    app.add_api_route("/crm/v3/objects/contacts/{contact_id}", get_contact, methods=["GET"])

    # ---------------------------------------------------------------- admin
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
        knobs.rules.clear()
        fresh = HubSpotState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))
        st.index = Index(list(settings.unique_properties), _norm)
        rng.seed(settings.seed)

    def expire() -> int:
        return expire_now(st.access_tokens.values())

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/reset-daily")
    async def reset_daily() -> dict[str, int]:
        used, st.daily_used = st.daily_used, 0
        st.window.clear()
        return {"was": used}

    app.include_router(router)
    faults.install(app, knobs)
    app.state.sandbox = st
    return app
