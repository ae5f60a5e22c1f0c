"""What every Marketo resource router shares: the settings, the in-memory state, the request
guard (URI and body size, auth, concurrency, daily quota, rate window, held requests), the pager
and the response shapes (errors are HTTP 200 with `success: false`, as Marketo sends them)."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox import faults
from sandbox.vendor_common import Gate, Index, SlidingWindow

# Event-channel statuses with their progression steps: a lead moves forward only.
EVENT_STATUSES: dict[str, int] = {
    "Not in Program": 0,
    "Invited": 10,
    "Registered": 20,
    "No Show": 30,
    "Attended": 30,
}

STANDARD_FIELDS = (
    "email firstName lastName company title phone city state country postalCode "
    "leadSource website unsubscribed"
).split()


@dataclass
class MarketoSettings:
    client_id: str = "sandbox-marketo-client"
    client_secret: str = "sandbox-marketo-secret"
    api_user_email: str = "api-user@sandbox.example"
    token_ttl_s: float = 3600.0
    rate_limit: int = 100  # calls per rate_window_s, per instance (606)
    rate_window_s: float = 20.0
    max_concurrent: int = 10  # the next call in flight gets 615
    daily_quota: int = 50_000  # 607 past this; reset only through /_sandbox/reset-quota
    max_batch: int = 300  # Sync Leads, program member status, filterValues
    max_trigger_leads: int = 100
    max_body_bytes: int = 1_048_576  # 413 above
    max_uri_bytes: int = 8_192  # 414 above
    max_page_size: int = 300  # batchSize of paged reads
    extra_fields: list[str] = field(default_factory=lambda: ["externalKey", "registrationCode"])
    dedupe_fields: list[str] = field(default_factory=lambda: ["email", "externalKey"])
    searchable_fields: list[str] = field(default_factory=lambda: ["company", "leadSource"])
    partitions: list[str] = field(default_factory=lambda: ["Default"])
    programs: dict[str, str] = field(default_factory=lambda: {"1001": "Sandbox Event"})
    campaigns: dict[str, bool] = field(  # id -> requestable
        default_factory=lambda: {"2001": True, "2002": False}
    )


@dataclass
class Token:
    value: str
    client_id: str
    expires_at: float
    expiry_reported: bool = False


@dataclass
class MarketoState:
    tokens: dict[str, Token] = field(default_factory=dict)  # by value
    current: dict[str, str] = field(default_factory=dict)  # client id -> live token value
    leads: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_lead_id: int = 1
    members: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    page_tokens: dict[str, int] = field(default_factory=dict)
    calls_today: int = 0
    in_flight: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    window: SlidingWindow = field(default_factory=SlidingWindow)
    index: Index | None = None

    def count(self, signal: str) -> None:
        self.counters[signal] = self.counters.get(signal, 0) + 1


def norm(name: str, value: Any) -> str:
    return str(value).lower() if name == "email" else str(value)


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_id() -> str:
    return f"{secrets.token_hex(2)}#{secrets.token_hex(6)[:11]}"


def ok(result: list[Any] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"requestId": request_id(), "success": True}
    if result is not None:
        body["result"] = result
    body.update(extra)
    return JSONResponse(body)


def fail(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"requestId": request_id(), "success": False, "errors": [{"code": code, "message": message}]}
    )


def skipped(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "status": "skipped", "reasons": [{"code": code, "message": message}]}


class Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Site:
    """One emulated Marketo instance: what the routers of `create_app` close over."""

    settings: MarketoSettings
    st: MarketoState = field(default_factory=MarketoState)
    gate: Gate = field(default_factory=Gate)
    knobs: faults.Faults = field(default_factory=faults.Faults)

    def __post_init__(self) -> None:
        self.st.index = Index(list(self.settings.dedupe_fields), norm)

    def auth_error(self, request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        value = (
            auth[7:].strip()
            if auth.lower().startswith("bearer ")
            else request.query_params.get("access_token")
        )
        tok = self.st.tokens.get(value or "")
        if tok is None:
            self.st.count("601")
            return fail("601", "Access token invalid")
        if tok.expires_at <= time.monotonic():
            if not tok.expiry_reported:
                tok.expiry_reported = True
                self.st.count("602")
                return fail("602", "Access token expired")
            self.st.count("601")
            return fail("601", "Access token invalid")
        return None

    async def guarded(self, request: Request, work: Any, *, check_size: bool = False) -> Response:
        """HTTP-level checks, auth (free calls), then concurrency, quota and rate; only
        calls that pass count against the quota and the window."""
        if len(str(request.url.path)) + len(request.url.query) + 1 > self.settings.max_uri_bytes:
            self.st.count("414")
            return PlainTextResponse("Request-URI Too Long", status_code=414)
        body = await request.body()
        if check_size and len(body) > self.settings.max_body_bytes:
            self.st.count("413")
            return PlainTextResponse("Request Entity Too Large", status_code=413)
        denied = self.auth_error(request)
        if denied is not None:
            return denied
        if self.st.in_flight >= self.settings.max_concurrent:
            self.st.count("615")
            return fail("615", "Concurrent access limit reached")
        if self.st.calls_today >= self.settings.daily_quota:
            self.st.count("607")
            return fail("607", "Daily quota reached")
        if not self.st.window.try_hit(self.settings.rate_limit, self.settings.rate_window_s):
            self.st.count("606")
            return fail(
                "606",
                f"Max rate limit '{self.settings.rate_limit}' exceeded with in '{self.settings.rate_window_s:g}' secs",
            )
        self.st.calls_today += 1
        self.st.in_flight += 1
        try:
            await self.gate.wait()
            result: Response = await work(body)
            return result
        finally:
            self.st.in_flight -= 1

    def json_body(self, request: Request, body: bytes) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise Reject("612", "Invalid Content Type")
        try:
            return json.loads(body or b"null")
        except ValueError as exc:
            raise Reject("609", "Invalid JSON") from exc

    def known_fields(self) -> set[str]:
        return {"id", *STANDARD_FIELDS, *self.settings.extra_fields}

    def activity(self, lead_id: int, type_id: int, **attrs: Any) -> None:
        self.st.activities.append(
            {
                "id": len(self.st.activities) + 1,
                "marketoGUID": str(len(self.st.activities) + 1),
                "leadId": lead_id,
                "activityDate": now_iso(),
                "activityTypeId": type_id,
                "_t": time.time(),
                **attrs,
            }
        )

    def page(self, items: list[Any], params: dict[str, str]) -> JSONResponse:
        try:
            size = int(params.get("batchSize") or self.settings.max_page_size)
        except ValueError:
            return fail("1001", f"Invalid value '{params.get('batchSize')}'. Required of type 'Integer'")
        size = max(1, min(size, self.settings.max_page_size))
        start = 0
        if params.get("nextPageToken"):
            if params["nextPageToken"] not in self.st.page_tokens:
                return fail("1003", "Invalid nextPageToken")
            start = self.st.page_tokens[params["nextPageToken"]]
        chunk = items[start : start + size]
        more = start + size < len(items)
        extra: dict[str, Any] = {"moreResult": more}
        if more:
            tok = secrets.token_urlsafe(24)
            self.st.page_tokens[tok] = start + len(chunk)
            extra["nextPageToken"] = tok
        return ok(chunk, **extra)
