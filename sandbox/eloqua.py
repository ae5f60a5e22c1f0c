"""Oracle Eloqua emulator: login service, Application REST API and Bulk API 2.0 (docs/sandbox-vendors.md).

One server plays both ``login.eloqua.com`` (``/id``, ``/auth/oauth2/...``) and the pod
(``/api/REST/...``, ``/api/bulk/2.0/...``); ``/id`` names this server as the base URL.
Auth: Basic ``Site\\User:password`` or OAuth2 bearer (authorization code, password,
refresh; 8 h access tokens). Paths under ``/api/`` are matched case-insensitively, as
Eloqua does, and so are fault rules' paths (``/api/REST/…`` and ``/api/rest/…`` alike).
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import io
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

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

DEFAULT_PORT = 8712

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
_STATEMENT = re.compile(r"^\{\{Contact\.(?:Field\((?P<field>\w+)\)|(?P<id>Id))\}\}$")


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


class _CaseInsensitiveApi:
    """Eloqua paths are case-insensitive (/API/REST and /api/rest); route on lower case."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].lower().startswith("/api/"):
            scope = {**scope, "path": scope["path"].lower(), "raw_path": scope["path"].lower().encode()}
        await self.app(scope, receive, send)


def _unix() -> int:
    return int(time.time())


def _iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _validation(
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


def _param_error(name: str, requirement: str, value: Any) -> JSONResponse:
    return JSONResponse(
        {
            "type": "EndpointParameterError",
            "parameter": name,
            "requirement": {"type": requirement},
            "value": str(value),
        },
        status_code=400,
    )


def _bulk_failure(fieldname: str, constraint: str, value: Any = None, status: int = 400) -> JSONResponse:
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


def create_app(**overrides: Any) -> FastAPI:
    settings = make_settings(EloquaSettings, overrides)
    st = EloquaState()
    gate = Gate()
    knobs = faults.Faults(ignore_case=True)
    app = FastAPI(title="Eloqua sandbox")

    # ---------------------------------------------------------------- auth
    def _basic_ok(header: str) -> bool:
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except ValueError:
            return False
        return user == f"{settings.site_name}\\{settings.username}" and password == settings.password

    def authenticated(request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("basic "):
            return _basic_ok(auth)
        if auth.lower().startswith("bearer "):
            tok = st.access.get(auth[7:].strip())
            return tok is not None and tok.expires_at > time.monotonic()
        return False

    @app.get("/id")
    async def identity(request: Request) -> Response:
        if not authenticated(request):
            st.count("id_not_authenticated")
            return JSONResponse("Not authenticated.")
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "site": {"id": settings.site_id, "name": settings.site_name},
                "user": {
                    "id": 9,
                    "username": settings.username,
                    "displayName": "API User",
                    "firstName": "API",
                    "lastName": "User",
                    "emailAddress": "api.user@sandbox.example",
                },
                "urls": {
                    "base": base,
                    "apis": {
                        "soap": {
                            "standard": f"{base}/API/{{version}}/Service.svc",
                            "dataTransfer": f"{base}/API/{{version}}/DataTransferService.svc",
                            "email": f"{base}/API/{{version}}/EmailService.svc",
                            "externalAction": f"{base}/API/{{version}}/ExternalActionService.svc",
                        },
                        "rest": {
                            "standard": f"{base}/API/REST/{{version}}/",
                            "data": f"{base}/API/Data/{{version}}/",
                            "bulk": f"{base}/API/Bulk/{{version}}/",
                        },
                    },
                },
            }
        )

    @app.get("/auth/oauth2/authorize")
    async def authorize(
        client_id: str, redirect_uri: str, response_type: str = "code", scope: str = "full", state: str = ""
    ) -> Response:
        """No login page: the sandbox signs in its configured user at once."""
        if client_id != settings.client_id or response_type != "code":
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        now = time.monotonic()
        last = st.last_authorize.get(client_id)
        if last is not None and now - last < settings.authorize_min_interval_s:
            st.count("429_authorize")
            return PlainTextResponse("Too Many Requests", status_code=429)
        st.last_authorize[client_id] = now
        code = secrets.token_urlsafe(24)
        st.codes[code] = redirect_uri
        return RedirectResponse(
            f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302
        )

    @app.post("/auth/oauth2/token")
    async def token(request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        try:
            cid, _, secret = base64.b64decode(auth[6:].strip()).decode().partition(":")
        except ValueError:
            cid = secret = ""
        if (
            not auth.lower().startswith("basic ")
            or cid != settings.client_id
            or secret != settings.client_secret
        ):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        if "json" in request.headers.get("content-type", ""):
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": "invalid_request"}, status_code=400)
        else:
            body = await form_fields(request)
        grant = body.get("grant_type")
        now = time.monotonic()
        if grant == "authorization_code":
            code = body.get("code", "")
            if code not in st.codes or st.codes[code] != body.get("redirect_uri"):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            del st.codes[code]
        elif grant == "password":
            if (
                body.get("username") != f"{settings.site_name}\\{settings.username}"
                or body.get("password") != settings.password
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        elif grant == "refresh_token":
            rt = body.get("refresh_token", "")
            if st.refresh.get(rt, 0) <= now:
                st.count("refresh_rejected")
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            del st.refresh[rt]  # a refresh token is good for one use
            if settings.refresh_revokes_access_tokens:
                for k in [k for k, t in st.access.items() if t.refresh == rt]:
                    del st.access[k]
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        access = secrets.token_urlsafe(48)
        refresh = secrets.token_urlsafe(48)
        st.refresh[refresh] = now + settings.refresh_token_ttl_s
        st.access[access] = Tok(now + settings.access_token_ttl_s, refresh)
        st.count("tokens_issued")
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": int(settings.access_token_ttl_s),
                "refresh_token": refresh,
            }
        )

    async def guarded(request: Request, work: Any) -> Response:
        if not authenticated(request):
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
            await gate.wait()
            result: Response = await work()
            return result
        finally:
            st.in_flight -= 1

    # ---------------------------------------------------------------- REST: contacts
    def custom_by_id() -> dict[str, str]:
        return {v: k for k, v in settings.custom_fields.items()}

    def contact_view(c: dict[str, Any], depth: str = "complete") -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "Contact",
            "id": str(c["id"]),
            "createdAt": str(c["createdAt"]),
            "updatedAt": str(c["updatedAt"]),
            "emailAddress": c.get("emailAddress"),
            "name": c.get("emailAddress"),
        }
        if depth == "minimal":
            return out
        for attr in STANDARD_FIELDS.values():
            if c.get(attr) is not None:
                out[attr] = c[attr]
        out["fieldValues"] = [
            {"type": "FieldValue", "id": fid, "value": c["custom"].get(fid)} for fid in sorted(c["custom"])
        ]
        return out

    def apply_contact(c: dict[str, Any], body: dict[str, Any]) -> None:
        st.emails.remove(c["id"], c)
        for attr in STANDARD_FIELDS.values():
            if attr in body:
                c[attr] = body[attr]
        for fv in body.get("fieldValues") or []:
            c["custom"][str(fv.get("id"))] = fv.get("value")
        c["updatedAt"] = _unix()
        st.emails.add(c["id"], c)

    def contact_errors(body: Any, own_id: int | None) -> JSONResponse | None:
        if not isinstance(body, dict):
            return _validation("body", "ObjectRequirement", body)
        email = body.get("emailAddress")
        if own_id is None and not email:
            return _validation("emailAddress", "NotNullRequirement", email)
        if email is not None and not valid_email(email):
            return _validation("emailAddress", "EmailAddressRequirement", email)
        if email and any(cid != own_id for cid in st.emails.find("emailAddress", email)):
            return _validation("emailAddress", "UniquenessRequirement", email, status=409)
        for fv in body.get("fieldValues") or []:
            if str(fv.get("id")) not in custom_by_id():
                return _validation("fieldValues", "ContactFieldRequirement", fv.get("id"))
        return None

    def new_contact(body: dict[str, Any]) -> dict[str, Any]:
        cid = st.next_id()
        now = _unix()
        c: dict[str, Any] = {
            "id": cid,
            "createdAt": now,
            "updatedAt": now,
            "custom": {},
            "emailAddress": None,
        }
        apply_contact(c, body)
        st.contacts[cid] = c
        return c

    async def create_contact(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            bad = contact_errors(body, None)
            if bad is not None:
                return bad
            return JSONResponse(contact_view(new_contact(body)), status_code=201)

        return await guarded(request, work)

    async def contact_item(request: Request, contact_id: int) -> Response:
        async def work() -> Response:
            c = st.contacts.get(contact_id)
            if c is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "GET":
                return JSONResponse(contact_view(c, request.query_params.get("depth", "complete")))
            if request.method == "DELETE":
                st.emails.remove(contact_id, c)
                del st.contacts[contact_id]
                return Response(status_code=200)
            body = await request.json()
            bad = contact_errors(body, contact_id)
            if bad is not None:
                return bad
            apply_contact(c, body)
            return JSONResponse(contact_view(c))

        return await guarded(request, work)

    def paged(request: Request, rows: list[dict[str, Any]]) -> JSONResponse:
        q = request.query_params
        try:
            page = int(q.get("page", "1"))
        except ValueError:
            return _param_error("page", "IntegerRequirement", q.get("page"))
        try:
            count = int(q.get("count", str(settings.max_page_count)))
        except ValueError:
            return _param_error("count", "IntegerRequirement", q.get("count"))
        if page < 1:
            return _param_error("page", "IntegerRangeRequirement", page)
        if not 1 <= count <= settings.max_page_count:
            return _param_error("count", "IntegerRangeRequirement", count)
        start = (page - 1) * count
        return JSONResponse(
            {"elements": rows[start : start + count], "page": page, "pageSize": count, "total": len(rows)}
        )

    def _stamp(value: str) -> float:
        value = value.strip("'\"")
        if re.fullmatch(r"\d+", value):
            return float(value)
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=UTC).timestamp()

    def search_filter(expr: str) -> Any:
        m = re.fullmatch(r"\s*(\w+)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*", expr)
        if not m:
            raise ValueError(expr)
        name, op, raw = m.groups()
        attr = {"lastUpdatedAt": "updatedAt", "lastupdatedat": "updatedAt"}.get(name, name)
        if attr in ("updatedAt", "createdAt", "id"):
            bound = _stamp(raw)

            def by_number(c: dict[str, Any]) -> bool:
                v = float(c[attr])
                return {
                    "=": v == bound,
                    "!=": v != bound,
                    ">": v > bound,
                    "<": v < bound,
                    ">=": v >= bound,
                    "<=": v <= bound,
                }[op]

            return by_number
        pattern = raw.strip("'\"").lower()

        def by_text(c: dict[str, Any]) -> bool:
            hit = fnmatch.fnmatch(str(c.get(attr) or "").lower(), pattern)
            return hit if op == "=" else not hit if op == "!=" else False

        return by_text

    async def list_contacts(request: Request) -> Response:
        async def work() -> Response:
            q = request.query_params
            rows = list(st.contacts.values())
            if q.get("lastUpdatedAt"):
                try:
                    since = _stamp(q["lastUpdatedAt"])
                except ValueError:
                    return _param_error("lastUpdatedAt", "DateTimeRequirement", q["lastUpdatedAt"])
                rows = [c for c in rows if c["updatedAt"] > since]
            if q.get("search"):
                try:
                    keep = search_filter(q["search"])
                except ValueError:
                    return _param_error("search", "SearchRequirement", q["search"])
                rows = [c for c in rows if keep(c)]
            order = (q.get("orderBy") or "id").split()
            key = {"updatedAt": "updatedAt", "createdAt": "createdAt"}.get(order[0], "id")
            rows.sort(key=lambda c: (c[key], c["id"]), reverse=len(order) > 1 and order[1].upper() == "DESC")
            depth = q.get("depth", "minimal")
            return paged(request, [contact_view(c, depth) for c in rows])

        return await guarded(request, work)

    app.add_api_route("/api/rest/1.0/data/contact", create_contact, methods=["POST"])
    app.add_api_route(
        "/api/rest/1.0/data/contact/{contact_id}", contact_item, methods=["GET", "PUT", "DELETE"]
    )
    for v in ("1.0", "2.0"):
        app.add_api_route(f"/api/rest/{v}/data/contacts", list_contacts, methods=["GET"])

    # ---------------------------------------------------------------- REST: contact lists
    def list_view(lst: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "ContactList",
            "id": str(lst["id"]),
            "name": lst["name"],
            "count": len(lst["members"]),
            "createdAt": str(lst["createdAt"]),
            "updatedAt": str(lst["updatedAt"]),
        }

    async def create_list(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            if not isinstance(body, dict) or not body.get("name"):
                return _validation("name", "NotNullRequirement", None, "ContactList")
            if any(lst["name"] == body["name"] for lst in st.lists.values()):
                return _validation("name", "UniquenessRequirement", body["name"], "ContactList", status=409)
            lid = st.next_id()
            st.lists[lid] = {
                "id": lid,
                "name": body["name"],
                "members": [],
                "createdAt": _unix(),
                "updatedAt": _unix(),
            }
            return JSONResponse(list_view(st.lists[lid]), status_code=201)

        return await guarded(request, work)

    async def list_item(request: Request, list_id: int) -> Response:
        async def work() -> Response:
            lst = st.lists.get(list_id)
            if lst is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "GET":
                return JSONResponse(list_view(lst))
            body = await request.json()
            adds = [str(x) for x in body.get("membershipAdditions") or []]
            dels = {str(x) for x in body.get("membershipDeletions") or []}
            for cid in adds:
                if not cid.isdigit() or int(cid) not in st.contacts:
                    return _validation("membershipAdditions", "ContactRequirement", cid, "ContactList")
            for cid in adds:
                if int(cid) not in lst["members"]:
                    lst["members"].append(int(cid))
            lst["members"] = [m for m in lst["members"] if str(m) not in dels]
            if body.get("name"):
                lst["name"] = body["name"]
            lst["updatedAt"] = _unix()
            return JSONResponse(list_view(lst))

        return await guarded(request, work)

    async def all_lists(request: Request) -> Response:
        async def work() -> Response:
            return paged(request, [list_view(x) for _, x in sorted(st.lists.items())])

        return await guarded(request, work)

    async def list_members(request: Request, list_id: int) -> Response:
        async def work() -> Response:
            lst = st.lists.get(list_id)
            if lst is None:
                return PlainTextResponse("Not Found", status_code=404)
            rows = [
                contact_view(st.contacts[m], request.query_params.get("depth", "minimal"))
                for m in lst["members"]
                if m in st.contacts
            ]
            return paged(request, rows)

        return await guarded(request, work)

    app.add_api_route("/api/rest/1.0/assets/contact/list", create_list, methods=["POST"])
    app.add_api_route("/api/rest/1.0/assets/contact/list/{list_id}", list_item, methods=["GET", "PUT"])
    app.add_api_route("/api/rest/1.0/assets/contact/lists", all_lists, methods=["GET"])
    for v in ("1.0", "2.0"):
        app.add_api_route(f"/api/rest/{v}/data/contacts/list/{{list_id}}", list_members, methods=["GET"])

    # ---------------------------------------------------------------- REST: external activities, forms
    async def create_activity(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            for name in ("contactId", "campaignId", "assetType", "assetName", "activityType"):
                if not isinstance(body, dict) or body.get(name) in (None, ""):
                    return _validation(name, "NotNullRequirement", None, "Activity")
            if not str(body["contactId"]).isdigit() or int(body["contactId"]) not in st.contacts:
                return _validation("contactId", "ContactRequirement", body["contactId"], "Activity")
            kinds = settings.external_asset_types.get(body["assetType"])
            if kinds is None:
                return _validation("assetType", "ExternalAssetTypeRequirement", body["assetType"], "Activity")
            if body["activityType"] not in kinds:
                return _validation(
                    "activityType", "ExternalActivityTypeRequirement", body["activityType"], "Activity"
                )
            aid = st.next_id()
            act = {
                **body,
                "type": "Activity",
                "id": str(aid),
                "activityDate": str(body.get("activityDate") or _unix()),
            }
            st.activities[aid] = act
            return JSONResponse(act, status_code=201)

        return await guarded(request, work)

    async def get_activity(request: Request, activity_id: int) -> Response:
        async def work() -> Response:
            act = st.activities.get(activity_id)
            return JSONResponse(act) if act else PlainTextResponse("Not Found", status_code=404)

        return await guarded(request, work)

    async def get_form(request: Request, form_id: str) -> Response:
        async def work() -> Response:
            fields = settings.forms.get(form_id)
            if fields is None:
                return PlainTextResponse("Not Found", status_code=404)
            return JSONResponse(
                {
                    "type": "Form",
                    "id": form_id,
                    "name": f"Sandbox form {form_id}",
                    "elements": [
                        {
                            "type": "FormField",
                            "id": f["id"],
                            "name": f["name"],
                            "htmlName": f["htmlName"],
                            "validations": [
                                {"type": "FieldValidation", "condition": {"type": "IsRequiredCondition"}}
                            ]
                            if f.get("required")
                            else [],
                        }
                        for f in fields
                    ],
                }
            )

        return await guarded(request, work)

    async def submit_form(request: Request, form_id: str) -> Response:
        async def work() -> Response:
            fields = settings.forms.get(form_id)
            if fields is None:
                return PlainTextResponse("Not Found", status_code=404)
            body = await request.json()
            by_id = {f["id"]: f for f in fields}
            values: dict[str, Any] = {}
            for fv in (body or {}).get("fieldValues") or []:
                fid = str(fv.get("id"))
                if fid not in by_id:
                    return _validation("fieldValues", "FormFieldRequirement", fid, "FormData")
                values[fid] = fv.get("value")
            for f in fields:
                v = values.get(f["id"])
                if f.get("required") and v in (None, ""):
                    return _validation(f["htmlName"], "IsRequiredCondition", v, "FormData")
                if f.get("email") and v not in (None, "") and not valid_email(v):
                    return _validation(f["htmlName"], "EmailAddressRequirement", v, "FormData")
            named = {by_id[fid]["htmlName"]: v for fid, v in values.items()}
            contact_id = None
            if named.get("emailAddress"):
                found = st.emails.find("emailAddress", named["emailAddress"])
                match = st.contacts[found[0]] if found else None
                if match is None:
                    match = new_contact({k: v for k, v in named.items() if k in STANDARD_FIELDS.values()})
                else:
                    apply_contact(match, {k: v for k, v in named.items() if k in STANDARD_FIELDS.values()})
                contact_id = match["id"]
            sid = st.next_id()
            sub = {
                "type": "FormData",
                "id": str(sid),
                "formId": form_id,
                "submittedAt": str(_unix()),
                "fieldValues": [{"type": "FieldValue", "id": k, "value": v} for k, v in values.items()],
                "contactId": str(contact_id) if contact_id else None,
            }
            st.submissions.append(sub)
            return JSONResponse(sub, status_code=201)

        return await guarded(request, work)

    app.add_api_route("/api/rest/2.0/data/activity", create_activity, methods=["POST"])
    app.add_api_route("/api/rest/2.0/data/activity/{activity_id}", get_activity, methods=["GET"])
    app.add_api_route("/api/rest/2.0/assets/form/{form_id}", get_form, methods=["GET"])
    app.add_api_route("/api/rest/2.0/data/form/{form_id}", submit_form, methods=["POST"])

    # ---------------------------------------------------------------- Bulk 2.0
    def bulk_page(request: Request, items: list[Any]) -> JSONResponse:
        q = request.query_params
        try:
            limit = int(q.get("limit", "1000"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            return _bulk_failure("limit", "Must be an integer")
        if not 1 <= limit <= settings.max_bulk_limit:
            return _bulk_failure("limit", f"Must be between 1 and {settings.max_bulk_limit}", limit)
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

    def all_fields() -> dict[str, str]:
        """Internal name -> where the value lives on a contact (attribute or custom id)."""
        return {**STANDARD_FIELDS, **{k: f"custom:{v}" for k, v in settings.custom_fields.items()}}

    async def contact_fields(request: Request) -> Response:
        async def work() -> Response:
            items = [
                {
                    "name": n,
                    "internalName": n,
                    "statement": f"{{{{Contact.Field({n})}}}}",
                    "uri": f"/contacts/fields/{i}",
                }
                for i, n in enumerate(all_fields(), start=1)
            ]
            return bulk_page(request, items)

        return await guarded(request, work)

    async def create_import(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            if not isinstance(body, dict) or not body.get("name"):
                return _bulk_failure("name", "Is required")
            fields = body.get("fields")
            if not isinstance(fields, dict) or not fields:
                return _bulk_failure("fields", "Must contain at least 1 item", fields)
            if len(fields) > settings.max_import_fields:
                return _bulk_failure(
                    "fields", f"Must contain at most {settings.max_import_fields} items", len(fields)
                )
            for key, statement in fields.items():
                m = _STATEMENT.match(str(statement))
                if not m or (m.group("field") and m.group("field") not in all_fields()):
                    return _bulk_failure(
                        f"fields.{key}", "Must be a valid contact field statement", statement
                    )
            ident = body.get("identifierFieldName")
            if ident not in fields:
                return _bulk_failure(
                    "identifierFieldName",
                    "ELQ-00112: identifierFieldName must be one of the keys of fields",
                    ident,
                )
            rule = body.get("updateRule", "always")
            if rule not in ("always", "ifNewIsNotNull", "ifExistingIsNull", "useFieldRule"):
                return _bulk_failure(
                    "updateRule",
                    "Must be one of always, ifNewIsNotNull, ifExistingIsNull, useFieldRule",
                    rule,
                )
            iid = st.next_id()
            now = _iso()
            defn = {
                "name": body["name"],
                "fields": fields,
                "identifierFieldName": ident,
                "isSyncTriggeredOnImport": bool(body.get("isSyncTriggeredOnImport", False)),
                "isUpdatingMultipleMatchedRecords": bool(body.get("isUpdatingMultipleMatchedRecords", False)),
                "updateRule": rule,
                "syncActions": body.get("syncActions", []),
                "dataRetentionDuration": body.get("dataRetentionDuration", "P7D"),
                "uri": f"/contacts/imports/{iid}",
                "createdBy": settings.username,
                "createdAt": now,
                "updatedBy": settings.username,
                "updatedAt": now,
            }
            st.imports[iid] = {"def": defn, "staged": [], "posts": 0, "bytes": 0}
            return JSONResponse(defn, status_code=201)

        return await guarded(request, work)

    async def imports_list(request: Request) -> Response:
        async def work() -> Response:
            return bulk_page(request, [i["def"] for _, i in sorted(st.imports.items())])

        return await guarded(request, work)

    async def import_item(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            if imp is None:
                return PlainTextResponse("Not Found", status_code=404)
            if request.method == "DELETE":
                del st.imports[import_id]
                return Response(status_code=204)
            return JSONResponse(imp["def"])

        return await guarded(request, work)

    def active_sync_for(uri: str) -> bool:
        return any(s["syncedInstanceUri"] == uri and s["_final"] is None for s in st.syncs.values())

    async def import_data(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            raw = await request.body()
            if imp is None or len(raw) > settings.max_import_post_bytes:
                if imp is not None:
                    st.count("404_import_too_large")
                return PlainTextResponse("Not Found", status_code=404)
            if active_sync_for(imp["def"]["uri"]):
                return _bulk_failure(
                    "syncedInstanceUri", "A sync using this definition is still active", status=409
                )
            if imp["posts"] >= settings.max_data_posts_per_sync:
                return PlainTextResponse("There was a validation error", status_code=400)
            staged_total = sum(i["bytes"] for i in st.imports.values())
            if staged_total + len(raw) > settings.staging_capacity_bytes:
                st.count("413_storage")
                return PlainTextResponse("Storage space exceeded", status_code=413)
            ctype = request.headers.get("content-type", "")
            try:
                if "csv" in ctype:
                    rows: list[Any] = list(csv.DictReader(io.StringIO(raw.decode("utf-8"))))
                else:
                    rows = json.loads(raw)
                    if not isinstance(rows, list):
                        raise ValueError("not an array")
            except (ValueError, UnicodeDecodeError):
                return _bulk_failure("data", "Must be a JSON array of objects or UTF-8 CSV")
            imp["staged"].extend(rows)
            imp["posts"] += 1
            imp["bytes"] += len(raw)
            if imp["def"]["isSyncTriggeredOnImport"]:
                return JSONResponse(start_sync(imp["def"]["uri"], None), status_code=201)
            return Response(status_code=204)

        return await guarded(request, work)

    async def clear_staged(request: Request, import_id: int) -> Response:
        async def work() -> Response:
            imp = st.imports.get(import_id)
            if imp is None:
                return PlainTextResponse("Not Found", status_code=404)
            imp["staged"], imp["posts"], imp["bytes"] = [], 0, 0
            return Response(status_code=204)

        return await guarded(request, work)

    app.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}/data", clear_staged, methods=["DELETE"])
    app.add_api_route("/api/bulk/2.0/contacts/fields", contact_fields, methods=["GET"])
    app.add_api_route("/api/bulk/2.0/contacts/imports", create_import, methods=["POST"])
    app.add_api_route("/api/bulk/2.0/contacts/imports", imports_list, methods=["GET"])
    app.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}", import_item, methods=["GET", "DELETE"])
    app.add_api_route("/api/bulk/2.0/contacts/imports/{import_id}/data", import_data, methods=["POST"])

    # ---------------------------------------------------------------- syncs
    def start_sync(uri: str, callback: str | None) -> dict[str, Any]:
        imp = st.imports[int(uri.rsplit("/", 1)[1])]
        sid = st.next_id()
        st.syncs[sid] = {
            "syncedInstanceUri": uri,
            "callbackUrl": callback,
            "status": "pending",
            "createdAt": _iso(),
            "createdBy": settings.username,
            "uri": f"/syncs/{sid}",
            "_rows": imp["staged"],
            "_polls": 0,
            "_final": None,
            "_rejects": [],
            "_logs": [],
        }
        imp["staged"], imp["posts"], imp["bytes"] = [], 0, 0
        return sync_view(st.syncs[sid])

    def sync_view(s: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in s.items() if not k.startswith("_") and v is not None}

    def advance(s: dict[str, Any]) -> None:
        if s["_final"] is not None:
            return
        s["_polls"] += 1
        if s["_polls"] <= settings.sync_pending_polls:
            s["status"] = "pending"
        elif s["_polls"] <= settings.sync_pending_polls + settings.sync_active_polls:
            s["status"] = "active"
            s.setdefault("syncStartedAt", _iso())
        else:
            s.setdefault("syncStartedAt", _iso())
            run_import(s)
            s["syncEndedAt"] = _iso()
            s["status"] = s["_final"]

    def run_import(s: dict[str, Any]) -> None:
        imp = st.imports.get(int(s["syncedInstanceUri"].rsplit("/", 1)[1]))
        rows: list[Any] = s.pop("_rows")
        if imp is None:
            s["_final"] = settings.error_status
            s["_logs"].append(("ELQ-00107", 1, "error", "The import definition no longer exists."))
            return
        defn = imp["def"]
        where = all_fields()
        mapping: dict[str, str] = {}  # row key -> attribute / custom:id / id
        for key, statement in defn["fields"].items():
            m = _STATEMENT.match(statement)
            assert m is not None
            mapping[key] = "id" if m.group("id") else where[m.group("field")]
        ident = defn["identifierFieldName"]
        ident_target = mapping[ident]
        created = updated = 0
        reasons: dict[str, int] = {}
        seen: set[str] = set()
        by_key: dict[str, list[dict[str, Any]]] = {}
        if ident_target != "emailAddress":  # one pass, not one per row
            for c in sorted(st.contacts.values(), key=lambda c: c["id"]):
                v = str(c["id"]) if ident_target == "id" else _target_value(c, ident_target)
                if v is not None:
                    by_key.setdefault(v, []).append(c)

        def reject(index: int, row: Any, code: str, message: str, invalid: list[str]) -> None:
            s["_rejects"].append(
                {
                    "fieldValues": row if isinstance(row, dict) else {"row": row},
                    "invalidFields": invalid,
                    "message": message,
                    "recordIndex": index,
                    "statusCode": code,
                }
            )
            reasons[code] = reasons.get(code, 0) + 1

        for index, row in enumerate(rows, start=1):
            if not isinstance(row, dict) or any(isinstance(v, dict | list) for v in row.values()):
                reject(index, row, "ELQ-00032", "Malformed record.", [])
                continue
            values = {mapping[k]: v for k, v in row.items() if k in mapping}
            email_key = next((k for k, t in mapping.items() if t == "emailAddress"), None)
            email = values.get("emailAddress")
            if email not in (None, "") and not valid_email(email):
                reject(index, row, "ELQ-00002", f"Invalid email address: {email}", [email_key or ""])
                continue
            key = values.get(ident_target)
            if key in (None, ""):
                reject(index, row, "ELQ-00061", f"Missing value for {ident}.", [ident])
                continue
            norm = str(key).lower() if ident_target == "emailAddress" else str(key)
            if norm in seen:
                code = "ELQ-00011" if ident_target == "emailAddress" else "ELQ-00026"
                reject(index, row, code, f"Duplicate {ident} in the import: {key}", [ident])
                continue
            seen.add(norm)
            if ident_target == "emailAddress":
                matches = [st.contacts[i] for i in st.emails.find("emailAddress", norm)]
            else:
                matches = by_key.get(norm, [])
            if not matches:
                if email in (None, ""):
                    reject(
                        index,
                        row,
                        "ELQ-00061",
                        "A new contact needs an email address.",
                        [email_key or "emailAddress"],
                    )
                    continue
                c = new_contact({})
                _write(c, values, "always")
                created += 1
                continue
            targets = matches if defn["isUpdatingMultipleMatchedRecords"] else matches[:1]
            for c in targets:
                _write(c, values, defn["updateRule"])
            updated += 1
        total = len(rows)
        rejected = sum(reasons.values())
        logs = [("ELQ-00001", total, "information", "Total records processed.")]
        if created:
            logs.append(("ELQ-00004", created, "information", "Contacts created."))
        if updated:
            logs.append(("ELQ-00022", updated, "information", "Contacts updated."))
        names = {
            "ELQ-00002": "Invalid email addresses.",
            "ELQ-00011": "Duplicate email addresses.",
            "ELQ-00026": "Duplicate identifiers.",
            "ELQ-00032": "Malformed records.",
            "ELQ-00061": "Records with missing fields.",
        }
        for code, n in sorted(reasons.items()):
            logs.append((code, n, "warning", names[code]))
        if rejected:
            logs.append(("ELQ-00060", rejected, "warning", "Total records rejected."))
        s["_logs"] = logs
        s["_final"] = (
            settings.error_status if total and rejected == total else "warning" if rejected else "success"
        )

    def _target_value(c: dict[str, Any], target: str) -> str | None:
        v = c["custom"].get(target[7:]) if target.startswith("custom:") else c.get(target)
        return None if v in (None, "") else str(v)

    def _write(c: dict[str, Any], values: dict[str, Any], rule: str) -> None:
        st.emails.remove(c["id"], c)
        for target, v in values.items():
            if target == "id":
                continue
            cur = c["custom"].get(target[7:]) if target.startswith("custom:") else c.get(target)
            if rule == "ifNewIsNotNull" and v in (None, ""):
                continue
            if rule == "ifExistingIsNull" and cur not in (None, ""):
                continue
            if target.startswith("custom:"):
                c["custom"][target[7:]] = v
            else:
                c[target] = v
        c["updatedAt"] = _unix()
        st.emails.add(c["id"], c)

    async def create_sync(request: Request) -> Response:
        async def work() -> Response:
            body = await request.json()
            uri = body.get("syncedInstanceUri") if isinstance(body, dict) else None
            m = re.fullmatch(r"/contacts/imports/(\d+)", str(uri or ""))
            if not m or int(m.group(1)) not in st.imports:
                return _bulk_failure("syncedInstanceUri", "Must reference an existing definition", uri)
            if active_sync_for(str(uri)):
                return _bulk_failure(
                    "syncedInstanceUri", "A sync using this definition is still active", uri, status=409
                )
            return JSONResponse(start_sync(str(uri), body.get("callbackUrl")), status_code=201)

        return await guarded(request, work)

    async def syncs_list(request: Request) -> Response:
        async def work() -> Response:
            return bulk_page(request, [sync_view(s) for _, s in sorted(st.syncs.items())])

        return await guarded(request, work)

    async def sync_item(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            advance(s)
            return JSONResponse(sync_view(s))

        return await guarded(request, work)

    async def sync_rejects(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            return bulk_page(request, s["_rejects"])

        return await guarded(request, work)

    async def sync_logs(request: Request, sync_id: int) -> Response:
        async def work() -> Response:
            s = st.syncs.get(sync_id)
            if s is None:
                return PlainTextResponse("Not Found", status_code=404)
            items = [
                {
                    "count": n,
                    "createdAt": s.get("syncEndedAt", s["createdAt"]),
                    "message": msg,
                    "severity": sev,
                    "statusCode": code,
                    "syncUri": s["uri"],
                }
                for code, n, sev, msg in s["_logs"]
            ]
            return bulk_page(request, items)

        return await guarded(request, work)

    app.add_api_route("/api/bulk/2.0/syncs", create_sync, methods=["POST"])
    app.add_api_route("/api/bulk/2.0/syncs", syncs_list, methods=["GET"])
    app.add_api_route("/api/bulk/2.0/syncs/{sync_id}", sync_item, methods=["GET"])
    app.add_api_route("/api/bulk/2.0/syncs/{sync_id}/rejects", sync_rejects, methods=["GET"])
    app.add_api_route("/api/bulk/2.0/syncs/{sync_id}/logs", sync_logs, methods=["GET"])

    # ---------------------------------------------------------------- admin
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
        knobs.rules.clear()
        fresh = EloquaState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))

    def expire() -> int:
        return expire_now(st.access.values())

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/expire-refresh-tokens")
    async def expire_refresh() -> dict[str, int]:
        n = len(st.refresh)
        st.refresh.clear()
        return {"expired": n}

    app.include_router(router)
    faults.install(app, knobs)
    app.add_middleware(_CaseInsensitiveApi)
    app.state.sandbox = st
    return app
