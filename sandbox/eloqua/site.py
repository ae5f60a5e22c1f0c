"""What every Eloqua resource router shares: the settings, the in-memory state, the request
guard (auth, outage, rate limit, held requests), the pagers and the error bodies."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox import faults
from sandbox.vendor_common import Gate, Index, SlidingWindow

# Bulk contact field (internal name) -> REST contact attribute.
STANDARD_FIELDS = {
    "C_EmailAddress": "emailAddress",
    "C_FirstName": "firstName",
    "C_LastName": "lastName",
    "C_Company": "accountName",
    "C_Title": "title",
    "C_BusPhone": "businessPhone",
    "C_City": "city",
    "C_Country": "country",
}
STATEMENT = re.compile(r"^\{\{Contact\.(?:Field\((?P<field>\w+)\)|(?P<id>Id))\}\}$")


@dataclass
class EloquaSettings:
    site_name: str = "SandboxCo"
    site_id: int = 1234
    username: str = "api.user"
    password: str = "sandbox-password"
    client_id: str = "sandbox-eloqua-app"
    client_secret: str = "sandbox-eloqua-secret"
    access_token_ttl_s: float = 28_800.0
    refresh_token_ttl_s: float = 365 * 86_400.0
    authorize_min_interval_s: float = 60.0  # one authorization initiation per minute per user per app
    refresh_revokes_access_tokens: bool = False  # True = behaviour before release 26B
    max_page_count: int = 1000  # REST `count`
    max_bulk_limit: int = 50_000  # Bulk `limit`
    max_import_fields: int = 100
    max_import_post_bytes: int = 32 * 1024 * 1024  # larger answers 404
    max_data_posts_per_sync: int = 500
    staging_capacity_bytes: int = 500 * 1024 * 1024  # 413 "Storage space exceeded" beyond
    rate_limit: int | None = None  # requests per rate_window_s; None = no 429 (no number is published)
    rate_window_s: float = 1.0
    unavailable: bool = False  # every API call answers 503
    sync_pending_polls: int = 0  # GETs of a new sync that still see `pending`
    sync_active_polls: int = 1  # then GETs that see `active`, then the final status
    error_status: str = "error"  # the docs also spell it "errored"
    custom_fields: dict[str, str] = field(
        default_factory=lambda: {"C_Registration_Code1": "100201", "C_Event_Status1": "100202"}
    )
    forms: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            "1": [
                {
                    "id": "1",
                    "htmlName": "emailAddress",
                    "name": "Email Address",
                    "required": True,
                    "email": True,
                },
                {"id": "2", "htmlName": "firstName", "name": "First Name", "required": False},
                {"id": "3", "htmlName": "lastName", "name": "Last Name", "required": False},
            ]
        }
    )
    # External asset type -> its activity types (Settings > External Assets and Activities).
    external_asset_types: dict[str, list[str]] = field(
        default_factory=lambda: {"Event Session": ["Registered", "Attended", "Cancelled"]}
    )


@dataclass
class Tok:
    expires_at: float
    refresh: str | None = None


@dataclass
class EloquaState:
    access: dict[str, Tok] = field(default_factory=dict)
    refresh: dict[str, float] = field(default_factory=dict)  # refresh token -> expiry
    codes: dict[str, str] = field(default_factory=dict)
    last_authorize: dict[str, float] = field(default_factory=dict)
    contacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    lists: dict[int, dict[str, Any]] = field(default_factory=dict)
    activities: dict[int, dict[str, Any]] = field(default_factory=dict)
    submissions: list[dict[str, Any]] = field(default_factory=list)
    imports: dict[int, dict[str, Any]] = field(default_factory=dict)
    syncs: dict[int, dict[str, Any]] = field(default_factory=dict)
    seq: int = 0
    window: SlidingWindow = field(default_factory=SlidingWindow)
    counters: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    emails: Index = field(default_factory=lambda: Index(["emailAddress"], lambda _f, v: str(v).lower()))

    def next_id(self) -> int:
        self.seq += 1
        return self.seq

    def count(self, signal: str) -> None:
        self.counters[signal] = self.counters.get(signal, 0) + 1


class CaseInsensitiveApi:
    """Eloqua paths are case-insensitive (/API/REST and /api/rest); route on lower case."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].lower().startswith("/api/"):
            scope = {**scope, "path": scope["path"].lower(), "raw_path": scope["path"].lower().encode()}
        await self.app(scope, receive, send)


def unix() -> int:
    return int(time.time())


def iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def validation(
    prop: str, requirement: str, value: Any, container: str = "Contact", status: int = 400
) -> JSONResponse:
    return JSONResponse(
        [
            {
                "type": "ObjectValidationError",
                "container": {"type": "ObjectKey", "objectType": container},
                "property": prop,
                "requirement": {"type": requirement},
                "value": "" if value is None else str(value),
            }
        ],
        status_code=status,
    )


def param_error(name: str, requirement: str, value: Any) -> JSONResponse:
    return JSONResponse(
        {
            "type": "EndpointParameterError",
            "parameter": name,
            "requirement": {"type": requirement},
            "value": str(value),
        },
        status_code=400,
    )


def bulk_failure(fieldname: str, constraint: str, value: Any = None, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {
            "failures": [
                {
                    "field": fieldname,
                    "stackTrace": [{"field": fieldname}],
                    "value": value,
                    "constraint": constraint,
                }
            ]
        },
        status_code=status,
    )


@dataclass
class Site:
    """One emulated Eloqua site: what the routers of `create_app` close over."""

    settings: EloquaSettings
    st: EloquaState = field(default_factory=EloquaState)
    gate: Gate = field(default_factory=Gate)
    # Eloqua's paths are case-insensitive, and so are its fault rules' paths.
    knobs: faults.Faults = field(default_factory=lambda: faults.Faults(ignore_case=True))

    def _basic_ok(self, header: str) -> bool:
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except ValueError:
            return False
        s = self.settings
        return user == f"{s.site_name}\\{s.username}" and password == s.password

    def authenticated(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            return self._basic_ok(auth)
        if auth.lower().startswith("bearer "):
            tok = self.st.access.get(auth[7:].strip())
            return tok is not None and tok.expires_at > time.monotonic()
        return False

    async def guarded(self, request: Request, work: Any) -> Response:
        settings, st = self.settings, self.st
        if not self.authenticated(request):
            st.count("401")
            return PlainTextResponse("Not authenticated.", status_code=401)
        if settings.unavailable:
            st.count("503")
            return PlainTextResponse("Service Unavailable", status_code=503)
        if settings.rate_limit is not None and not st.window.try_hit(
            settings.rate_limit, settings.rate_window_s
        ):
            st.count("429")
            return PlainTextResponse("Too Many Requests", status_code=429)
        st.in_flight += 1
        try:
            await self.gate.wait()
            result: Response = await work()
            return result
        finally:
            st.in_flight -= 1

    def paged(self, request: Request, rows: list[dict[str, Any]]) -> JSONResponse:
        """A REST page (`page`, `count`)."""
        q = request.query_params
        try:
            page = int(q.get("page", "1"))
        except ValueError:
            return param_error("page", "IntegerRequirement", q.get("page"))
        try:
            count = int(q.get("count", str(self.settings.max_page_count)))
        except ValueError:
            return param_error("count", "IntegerRequirement", q.get("count"))
        if page < 1:
            return param_error("page", "IntegerRangeRequirement", page)
        if not 1 <= count <= self.settings.max_page_count:
            return param_error("count", "IntegerRangeRequirement", count)
        start = (page - 1) * count
        return JSONResponse(
            {"elements": rows[start : start + count], "page": page, "pageSize": count, "total": len(rows)}
        )

    def bulk_page(self, request: Request, items: list[Any]) -> JSONResponse:
        """A Bulk API page (`limit`, `offset`)."""
        q = request.query_params
        try:
            limit = int(q.get("limit", "1000"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            return bulk_failure("limit", "Must be an integer")
        if not 1 <= limit <= self.settings.max_bulk_limit:
            return bulk_failure("limit", f"Must be between 1 and {self.settings.max_bulk_limit}", limit)
        chunk = items[offset : offset + limit]
        return JSONResponse(
            {
                "items": chunk,
                "totalResults": len(items),
                "limit": limit,
                "offset": offset,
                "count": len(chunk),
                "hasMore": offset + limit < len(items),
            }
        )

    def custom_by_id(self) -> dict[str, str]:
        return {v: k for k, v in self.settings.custom_fields.items()}

    def all_fields(self) -> dict[str, str]:
        """Internal name -> where the value lives on a contact (attribute or custom id)."""
        return {**STANDARD_FIELDS, **{k: f"custom:{v}" for k, v in self.settings.custom_fields.items()}}
