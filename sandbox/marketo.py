"""Marketo Engage REST API emulator (its contract: docs/sandbox-vendors.md, "Marketo").

Identity (client credentials in the query, one token per client id returned until it
expires, 602 on the first use after expiry then 601), Sync Leads, lead filter reads and
activity reads with ``nextPageToken``, program member status, smart campaign trigger.
Response-level errors and the rate signals 606 / 615 / 607 are HTTP 200 with
``success:false``, as Marketo sends them. Knobs: ``MarketoSettings``; admin: ``/_sandbox``.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from sandbox import faults
from sandbox.vendor_common import (
    Gate,
    Index,
    SlidingWindow,
    admin_router,
    expire_now,
    make_settings,
    valid_email,
)

DEFAULT_PORT = 8711

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


def _norm(name: str, value: Any) -> str:
    return str(value).lower() if name == "email" else str(value)


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _request_id() -> str:
    return f"{secrets.token_hex(2)}#{secrets.token_hex(6)[:11]}"


def _ok(result: list[Any] | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"requestId": _request_id(), "success": True}
    if result is not None:
        body["result"] = result
    body.update(extra)
    return JSONResponse(body)


def _fail(code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"requestId": _request_id(), "success": False, "errors": [{"code": code, "message": message}]}
    )


def _skipped(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "status": "skipped", "reasons": [{"code": code, "message": message}]}


def create_app(**overrides: Any) -> FastAPI:
    settings = make_settings(MarketoSettings, overrides)
    st = MarketoState()
    st.index = Index(list(settings.dedupe_fields), _norm)
    gate = Gate()
    knobs = faults.Faults()
    app = FastAPI(title="Marketo sandbox")

    # ---------------------------------------------------------------- identity
    async def token(request: Request) -> Response:
        params = dict(request.query_params)
        if request.method == "POST" and "form" in request.headers.get("content-type", ""):
            params.update({k: v[0] for k, v in parse_qs((await request.body()).decode()).items()})
        if params.get("grant_type") != "client_credentials":
            return JSONResponse(
                {
                    "error": "unsupported_grant_type",
                    "error_description": "grant_type must be client_credentials",
                },
                status_code=400,
            )
        cid, secret = params.get("client_id"), params.get("client_secret")
        if cid != settings.client_id or secret != settings.client_secret:
            st.count("identity_401")
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Bad client credentials"}, status_code=401
            )
        now = time.monotonic()
        live = st.tokens.get(st.current.get(cid, ""))
        if live is None or live.expires_at <= now:
            live = Token(f"{uuid.uuid4()}:ab", cid, now + settings.token_ttl_s)
            st.tokens[live.value] = live
            st.current[cid] = live.value
            st.count("tokens_issued")
        return JSONResponse(
            {
                "access_token": live.value,
                "token_type": "bearer",
                "expires_in": max(0, int(live.expires_at - now)),
                "scope": settings.api_user_email,
            }
        )

    app.add_api_route("/identity/oauth/token", token, methods=["GET", "POST"])

    # ---------------------------------------------------------------- guard
    def _auth_error(request: Request) -> JSONResponse | None:
        auth = request.headers.get("authorization", "")
        value = (
            auth[7:].strip()
            if auth.lower().startswith("bearer ")
            else request.query_params.get("access_token")
        )
        tok = st.tokens.get(value or "")
        if tok is None:
            st.count("601")
            return _fail("601", "Access token invalid")
        if tok.expires_at <= time.monotonic():
            if not tok.expiry_reported:
                tok.expiry_reported = True
                st.count("602")
                return _fail("602", "Access token expired")
            st.count("601")
            return _fail("601", "Access token invalid")
        return None

    async def guarded(request: Request, work: Any, *, check_size: bool = False) -> Response:
        """HTTP-level checks, auth (free calls), then concurrency, quota and rate; only
        calls that pass count against the quota and the window."""
        if len(str(request.url.path)) + len(request.url.query) + 1 > settings.max_uri_bytes:
            st.count("414")
            return PlainTextResponse("Request-URI Too Long", status_code=414)
        body = await request.body()
        if check_size and len(body) > settings.max_body_bytes:
            st.count("413")
            return PlainTextResponse("Request Entity Too Large", status_code=413)
        denied = _auth_error(request)
        if denied is not None:
            return denied
        if st.in_flight >= settings.max_concurrent:
            st.count("615")
            return _fail("615", "Concurrent access limit reached")
        if st.calls_today >= settings.daily_quota:
            st.count("607")
            return _fail("607", "Daily quota reached")
        if not st.window.try_hit(settings.rate_limit, settings.rate_window_s):
            st.count("606")
            return _fail(
                "606",
                f"Max rate limit '{settings.rate_limit}' exceeded with in '{settings.rate_window_s:g}' secs",
            )
        st.calls_today += 1
        st.in_flight += 1
        try:
            await gate.wait()
            result: Response = await work(body)
            return result
        finally:
            st.in_flight -= 1

    def _json_body(request: Request, body: bytes) -> Any:
        if "json" not in request.headers.get("content-type", ""):
            raise _Reject("612", "Invalid Content Type")
        try:
            return json.loads(body or b"null")
        except ValueError as exc:
            raise _Reject("609", "Invalid JSON") from exc

    def _known_fields() -> set[str]:
        return {"id", *STANDARD_FIELDS, *settings.extra_fields}

    def _activity(lead_id: int, type_id: int, **attrs: Any) -> None:
        st.activities.append(
            {
                "id": len(st.activities) + 1,
                "marketoGUID": str(len(st.activities) + 1),
                "leadId": lead_id,
                "activityDate": _now_iso(),
                "activityTypeId": type_id,
                "_t": time.time(),
                **attrs,
            }
        )

    # ---------------------------------------------------------------- paging
    def _page(items: list[Any], params: dict[str, str]) -> JSONResponse:
        try:
            size = int(params.get("batchSize") or settings.max_page_size)
        except ValueError:
            return _fail("1001", f"Invalid value '{params.get('batchSize')}'. Required of type 'Integer'")
        size = max(1, min(size, settings.max_page_size))
        start = 0
        if params.get("nextPageToken"):
            if params["nextPageToken"] not in st.page_tokens:
                return _fail("1003", "Invalid nextPageToken")
            start = st.page_tokens[params["nextPageToken"]]
        chunk = items[start : start + size]
        more = start + size < len(items)
        extra: dict[str, Any] = {"moreResult": more}
        if more:
            tok = secrets.token_urlsafe(24)
            st.page_tokens[tok] = start + len(chunk)
            extra["nextPageToken"] = tok
        return _ok(chunk, **extra)

    # ---------------------------------------------------------------- leads
    def _lead_view(lead: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        names = fields or ["id", "email", "firstName", "lastName", "updatedAt", "createdAt"]
        return {k: lead.get(k) for k in names}

    async def filter_read(params: dict[str, str]) -> JSONResponse:
        ftype = params.get("filterType")
        if not ftype:
            return _fail("1002", "Missing value for the required parameter 'filterType'")
        allowed = {"id", *settings.dedupe_fields, *settings.searchable_fields}
        if ftype not in allowed:
            return _fail("1011", f"Field '{ftype}' not supported")
        values = [v for v in (params.get("filterValues") or "").split(",") if v != ""]
        if not values:
            return _fail("1002", "Missing value for the required parameter 'filterValues'")
        if len(values) > settings.max_batch:
            return _fail("1003", f"Invalid data: more than {settings.max_batch} filterValues")
        fields = [f for f in (params.get("fields") or "").split(",") if f] or None
        unknown = [f for f in fields or [] if f not in _known_fields() | {"createdAt", "updatedAt"}]
        if unknown:
            return _fail("1006", f"Field '{unknown[0]}' not found")
        if ftype == "id":
            ids = {int(v) for v in values if v.isdigit() and int(v) in st.leads}
        elif st.index is not None and st.index.covers(ftype):
            ids = {i for v in values for i in st.index.find(ftype, v)}
        else:
            wanted = {_norm(ftype, v) for v in values}
            ids = {i for i, lead in st.leads.items() if _norm(ftype, lead.get(ftype)) in wanted}
        return _page([_lead_view(st.leads[i], fields) for i in sorted(ids)], params)

    async def leads_get(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            if not request.query_params.get("filterType"):
                return _fail("605", "HTTP Method not supported")
            return await filter_read(dict(request.query_params))

        return await guarded(request, work)

    async def leads_post(request: Request) -> Response:
        async def work(body: bytes) -> Response:
            if request.query_params.get("_method", "").upper() == "GET":
                params = dict(request.query_params)
                params.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
                return await filter_read(params)
            try:
                payload = _json_body(request, body)
            except _Reject as r:
                return _fail(r.code, r.message)
            return sync_leads(payload)

        return await guarded(request, work, check_size=True)

    def sync_leads(payload: Any) -> JSONResponse:
        if not isinstance(payload, dict) or not isinstance(payload.get("input"), list):
            return _fail("1002", "Missing value for the required parameter 'input'")
        records: list[Any] = payload["input"]
        if not records:
            return _fail("1003", "Invalid data: input is empty")
        if len(records) > settings.max_batch:
            return _fail(
                "1003", f"Invalid data: input has {len(records)} records, the limit is {settings.max_batch}"
            )
        action = payload.get("action") or "createOrUpdate"
        if action not in ("createOrUpdate", "createOnly", "updateOnly", "createDuplicate"):
            return _fail("1003", f"Invalid action '{action}'")
        lookup = payload.get("lookupField") or "email"
        if lookup == "id" and action != "updateOnly":
            return _fail("1003", "Invalid data: lookupField 'id' is only allowed with updateOnly")
        if lookup not in {"id", *settings.dedupe_fields}:
            return _fail("1011", f"Field '{lookup}' not supported")
        partition = payload.get("partitionName") or settings.partitions[0]
        if partition not in settings.partitions:
            return JSONResponse(
                {
                    "requestId": _request_id(),
                    "success": True,
                    "result": [
                        _skipped("1008", f"Access denied to partition '{partition}'") for _ in records
                    ],
                }
            )
        known = _known_fields()
        seen: set[str] = set()
        results: list[dict[str, Any]] = []
        for rec in records:
            results.append(_sync_one(rec, action, lookup, partition, known, seen))
        return _ok(results)

    def _sync_one(
        rec: Any, action: str, lookup: str, partition: str, known: set[str], seen: set[str]
    ) -> dict[str, Any]:
        if not isinstance(rec, dict):
            return _skipped("1003", "Invalid data: a record must be an object")
        for name in rec:
            if name not in known:
                return _skipped("1006", f"Field '{name}' not found")
        if "email" in rec and rec["email"] not in (None, "") and not valid_email(rec["email"]):
            return _skipped("1003", f"Invalid email address '{rec['email']}'")
        if "id" in rec and action != "updateOnly":
            return _skipped("1003", "Invalid data: id is only allowed with updateOnly")
        key = rec.get(lookup)
        if action != "createDuplicate":
            if key in (None, ""):
                return _skipped("1003", f"Invalid data: lookup field '{lookup}' is missing")
            marker = str(key).lower() if lookup == "email" else str(key)
            if marker in seen:
                return _skipped("1036", "Duplicate object in input")
            seen.add(marker)
        matches = [] if action == "createDuplicate" else _match(lookup, key)
        if len(matches) > 1:
            return _skipped("1007", "Multiple leads match the lookup criteria")
        if matches:
            lead = st.leads[matches[0]]
            if action == "createOnly":
                return _skipped("1005", "Lead already exists", id=matches[0])
            if lead["_partition"] != partition:
                return _skipped("1010", "Partition update not allowed", id=matches[0])
            changes = {k: v for k, v in rec.items() if k != "id" and lead.get(k) != v}
            for k, v in changes.items():
                _activity(matches[0], 13, fields=[{"name": k, "newValue": v, "oldValue": lead.get(k)}])
            assert st.index is not None
            st.index.remove(matches[0], lead)
            lead.update({k: v for k, v in rec.items() if k != "id"})
            lead["updatedAt"] = _now_iso()
            st.index.add(matches[0], lead)
            return {"id": matches[0], "status": "updated"}
        if action == "updateOnly":
            return _skipped("1004", "Lead not found")
        lid = st.next_lead_id
        st.next_lead_id += 1
        now = _now_iso()
        st.leads[lid] = {**rec, "id": lid, "createdAt": now, "updatedAt": now, "_partition": partition}
        assert st.index is not None
        st.index.add(lid, st.leads[lid])
        _activity(lid, 12)
        return {"id": lid, "status": "created"}

    def _match(lookup: str, key: Any) -> list[int]:
        if lookup == "id":
            try:
                return [int(key)] if int(key) in st.leads else []
            except (TypeError, ValueError):
                return []
        if st.index is not None and st.index.covers(lookup):
            return st.index.find(lookup, key)
        return [i for i, lead in st.leads.items() if _norm(lookup, lead.get(lookup)) == _norm(lookup, key)]

    app.add_api_route("/rest/v1/leads.json", leads_get, methods=["GET"])
    app.add_api_route("/rest/v1/leads.json", leads_post, methods=["POST"])

    # ---------------------------------------------------------------- activities
    async def paging_token(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            since = request.query_params.get("sinceDatetime")
            if not since:
                return _fail("1002", "Missing value for the required parameter 'sinceDatetime'")
            try:
                ts = datetime.fromisoformat(since.replace("Z", "+00:00"))
                if ts.tzinfo is None:
                    ts = ts.replace(tzinfo=UTC)
            except ValueError:
                return _fail("704", "Invalid date format")
            position = sum(1 for a in st.activities if a["_t"] < ts.timestamp())
            tok = secrets.token_urlsafe(24)
            st.page_tokens[tok] = position
            return JSONResponse({"requestId": _request_id(), "success": True, "nextPageToken": tok})

        return await guarded(request, work)

    async def activities(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            params = dict(request.query_params)
            if not params.get("nextPageToken"):
                return _fail("1002", "Missing value for the required parameter 'nextPageToken'")
            ids = params.get("activityTypeIds")
            if not ids:
                return _fail("1002", "Missing value for the required parameter 'activityTypeIds'")
            wanted = {int(x) for x in ids.split(",") if x.strip().isdigit()}
            return _activity_page(params, lambda a: a["activityTypeId"] in wanted)

        return await guarded(request, work)

    async def lead_changes(request: Request) -> Response:
        async def work(_: bytes) -> Response:
            params = dict(request.query_params)
            if not params.get("nextPageToken"):
                return _fail("1002", "Missing value for the required parameter 'nextPageToken'")
            if not params.get("fields"):
                return _fail("1002", "Missing value for the required parameter 'fields'")
            names = set(params["fields"].split(","))
            return _activity_page(
                params, lambda a: a["activityTypeId"] == 13 and a["fields"][0]["name"] in names
            )

        return await guarded(request, work)

    def _activity_page(params: dict[str, str], keep: Any) -> JSONResponse:
        """Date-based tokens are positions in the activity log; each page moves the position
        past what it scanned, so activities written meanwhile are read on a later page."""
        tok = params["nextPageToken"]
        if tok not in st.page_tokens:
            return _fail("1003", "Invalid nextPageToken")
        start = st.page_tokens[tok]
        size = max(1, min(int(params.get("batchSize") or 300), settings.max_page_size))
        out: list[dict[str, Any]] = []
        pos = start
        while pos < len(st.activities) and len(out) < size:
            act = st.activities[pos]
            pos += 1
            if keep(act):
                out.append({k: v for k, v in act.items() if k != "_t"})
        nxt = secrets.token_urlsafe(24)
        st.page_tokens[nxt] = pos
        return _ok(out, moreResult=pos < len(st.activities), nextPageToken=nxt)

    app.add_api_route("/rest/v1/activities/pagingtoken.json", paging_token, methods=["GET"])
    app.add_api_route("/rest/v1/activities.json", activities, methods=["GET"])
    app.add_api_route("/rest/v1/activities/leadchanges.json", lead_changes, methods=["GET"])

    # ---------------------------------------------------------------- programs
    async def member_status(request: Request, program_id: str) -> Response:
        async def work(body: bytes) -> Response:
            try:
                payload = _json_body(request, body)
            except _Reject as r:
                return _fail(r.code, r.message)
            if program_id not in settings.programs:
                return _fail("1013", f"Program '{program_id}' not found")
            if not isinstance(payload, dict) or not payload.get("statusName"):
                return _fail("1002", "Missing value for the required parameter 'statusName'")
            status = payload["statusName"]
            if status not in EVENT_STATUSES:
                return _fail(
                    "1003", f"Invalid data: status '{status}' is not a status of the program's channel"
                )
            items = payload.get("input")
            if not isinstance(items, list) or not items:
                return _fail("1002", "Missing value for the required parameter 'input'")
            if len(items) > settings.max_batch:
                return _fail(
                    "1003", f"Invalid data: input has {len(items)} records, the limit is {settings.max_batch}"
                )
            out = []
            for seq, item in enumerate(items):
                lid = item.get("leadId") if isinstance(item, dict) else None
                if not isinstance(lid, int) or lid not in st.leads:
                    out.append(_skipped("1004", "Lead not found", seq=seq, leadId=lid))
                    continue
                key = (program_id, lid)
                cur = st.members.get(key)
                if cur is not None and (
                    cur["statusName"] == status or EVENT_STATUSES[status] < EVENT_STATUSES[cur["statusName"]]
                ):
                    out.append(
                        _skipped(
                            "1037",
                            f"Lead already in or past status '{cur['statusName']}'",
                            seq=seq,
                            leadId=lid,
                        )
                    )
                    continue
                st.members[key] = {
                    "leadId": lid,
                    "programId": int(program_id),
                    "statusName": status,
                    "progressionStatus": status,
                    "reachedSuccess": status == "Attended",
                    "membershipDate": cur["membershipDate"] if cur else _now_iso(),
                }
                _activity(lid, 104, programId=int(program_id), statusName=status)
                out.append({"seq": seq, "status": "updated" if cur else "created", "leadId": lid})
            return _ok(out)

        return await guarded(request, work, check_size=True)

    async def members(request: Request, program_id: str) -> Response:
        async def work(_: bytes) -> Response:
            if program_id not in settings.programs:
                return _fail("1013", f"Program '{program_id}' not found")
            params = dict(request.query_params)
            rows = [m for (pid, _lid), m in sorted(st.members.items()) if pid == program_id]
            ftype, fvals = params.get("filterType"), params.get("filterValues")
            if ftype and fvals:
                wanted = set(fvals.split(","))
                rows = [m for m in rows if str(m.get(ftype)) in wanted]
            return _page([{"seq": i, **m} for i, m in enumerate(rows)], params)

        return await guarded(request, work)

    app.add_api_route("/rest/v1/programs/{program_id}/members/status.json", member_status, methods=["POST"])
    app.add_api_route("/rest/v1/programs/{program_id}/members.json", members, methods=["GET"])

    # ---------------------------------------------------------------- campaigns
    async def trigger(request: Request, campaign_id: str) -> Response:
        async def work(body: bytes) -> Response:
            try:
                payload = _json_body(request, body)
            except _Reject as r:
                return _fail(r.code, r.message)
            if campaign_id not in settings.campaigns:
                return _fail("1013", f"Campaign '{campaign_id}' not found")
            if not settings.campaigns[campaign_id]:
                return _fail("1003", "Invalid data: the campaign has no 'Campaign is Requested' trigger")
            inp = payload.get("input") if isinstance(payload, dict) else None
            leads = inp.get("leads") if isinstance(inp, dict) else None
            if not isinstance(leads, list) or not leads:
                return _fail("1002", "Missing value for the required parameter 'input.leads'")
            if len(leads) > settings.max_trigger_leads:
                return _fail("1003", f"Invalid data: more than {settings.max_trigger_leads} leads")
            ids = [item.get("id") for item in leads if isinstance(item, dict)]
            st.triggers.append(
                {
                    "campaignId": int(campaign_id),
                    "leads": [i for i in ids if i in st.leads],
                    "ignored": [i for i in ids if i not in st.leads],
                    "tokens": inp.get("tokens", []) if isinstance(inp, dict) else [],
                }
            )
            return _ok([{"id": int(campaign_id)}])

        return await guarded(request, work, check_size=True)

    app.add_api_route("/rest/v1/campaigns/{campaign_id}/trigger.json", trigger, methods=["POST"])

    # ---------------------------------------------------------------- admin
    def state() -> dict[str, Any]:
        return {
            "leads": [dict(lead) for _, lead in sorted(st.leads.items())],
            "program_members": list(st.members.values()),
            "campaign_triggers": st.triggers,
            "tokens": [
                {"client_id": t.client_id, "expired": t.expires_at <= time.monotonic()}
                for t in st.tokens.values()
            ],
            "calls_today": st.calls_today,
            "in_flight": st.in_flight,
            "held": gate.waiting,
            "calls_in_window": st.window.count(settings.rate_window_s),
            "counters": st.counters,
            "activities": len(st.activities),
        }

    def reset() -> None:
        knobs.rules.clear()
        fresh = MarketoState()
        for name in fresh.__dataclass_fields__:
            setattr(st, name, getattr(fresh, name))
        st.index = Index(list(settings.dedupe_fields), _norm)

    def expire() -> int:
        return expire_now(st.tokens.values())

    router = admin_router(settings=settings, state=state, reset=reset, expire_tokens=expire, gate=gate)

    @router.post("/reset-quota")
    async def reset_quota() -> dict[str, int]:
        used, st.calls_today = st.calls_today, 0
        st.window.clear()
        return {"was": used}

    app.include_router(router)
    faults.install(app, knobs)
    app.state.sandbox = st
    return app


class _Reject(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def main() -> None:  # pragma: no cover - manual run
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=DEFAULT_PORT)
