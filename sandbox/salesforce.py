"""Salesforce REST API emulator (its contract: docs/sandbox-vendors.md, "Salesforce").

OAuth2 client credentials (no ``expires_in``; a session times out after inactivity and then
answers 401 INVALID_SESSION_ID), sObject Collections upsert by external ID (<= 200 records,
``allOrNone`` rollback, UpsertResult[] in input order), single sObject create/read (for
Campaign, CampaignMember and friends), SOQL query with ``nextRecordsUrl``, the
``Sforce-Limit-Info`` header and 403 REQUEST_LIMIT_EXCEEDED.
"""

from __future__ import annotations

import re
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from sandbox import faults
from sandbox.vendor_common import (
    Gate,
    Index,
    SlidingWindow,
    admin_router,
    form_fields,
    make_settings,
    valid_email,
)

DEFAULT_PORT = 8713

_PREFIX = {"Contact": "003", "Lead": "00Q", "Campaign": "701", "CampaignMember": "00v", "Account": "001"}
_B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase


def _schema() -> dict[str, dict[str, Any]]:
    return {
        "Contact": {
            "fields": [
                "FirstName",
                "LastName",
                "Email",
                "Title",
                "Phone",
                "AccountId",
                "Email_Ext__c",
                "Registration_Code__c",
            ],
            "required": ["LastName"],
            "external_ids": ["Email_Ext__c", "Registration_Code__c"],
        },
        "Lead": {
            "fields": [
                "FirstName",
                "LastName",
                "Email",
                "Company",
                "Title",
                "Status",
                "Registration_Code__c",
            ],
            "required": ["LastName", "Company"],
            "external_ids": ["Registration_Code__c"],
        },
        "Account": {
            "fields": ["Name", "External_Id__c"],
            "required": ["Name"],
            "external_ids": ["External_Id__c"],
        },
        "Campaign": {
            "fields": ["Name", "Status", "IsActive", "External_Id__c"],
            "required": ["Name"],
            "external_ids": ["External_Id__c"],
        },
        "CampaignMember": {
            "fields": ["CampaignId", "ContactId", "LeadId", "Status", "External_Id__c"],
            "required": ["CampaignId"],
            "external_ids": ["External_Id__c"],
        },
    }


@dataclass
class SalesforceSettings:
    client_id: str = "sandbox-salesforce-client"
    client_secret: str = "sandbox-salesforce-secret"
    session_timeout_s: float = 7200.0  # inactivity; every API call restarts it
    max_collection: int = 200
    daily_api_limit: int = 100_000  # rolling 24 h, org-wide; 403 REQUEST_LIMIT_EXCEEDED past it
    max_long_running: int = 25  # concurrent requests in flight for >= long_running_s
    long_running_s: float = 20.0
    query_batch_size: int = 2000  # Sforce-Query-Options: batchSize=200..2000 lowers it
    min_api_version: float = 46.0
    campaign_member_statuses: list[str] = field(
        default_factory=lambda: ["Sent", "Responded", "Registered", "Attended"]
    )
    # Active duplicate rules: sobject -> field whose equal values on another record are duplicates.
    duplicate_rules: dict[str, str] = field(default_factory=dict)
    schema: dict[str, dict[str, Any]] = field(default_factory=_schema)


@dataclass
class Session:
    token: str
    last_used: float


@dataclass
class SalesforceState:
    sessions: dict[str, Session] = field(default_factory=dict)
    records: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # type -> id -> fields
    counter: int = 0
    cursors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    locked: set[tuple[str, str]] = field(default_factory=set)  # (sobject, ext value) -> UNABLE_TO_LOCK_ROW
    usage: SlidingWindow = field(default_factory=SlidingWindow)
    in_flight: dict[int, float] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    indexes: dict[str, Index] = field(default_factory=dict)  # sobject -> by external ID

    def count(self, signal: str) -> None:
        self.counters[signal] = self.counters.get(signal, 0) + 1


def _iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def _err(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        [{"message": message, "errorCode": code}], status_code=status, headers=headers or None
    )


def create_app(**overrides: Any) -> FastAPI:
    settings = make_settings(SalesforceSettings, overrides)
    st = SalesforceState()
    gate = Gate()
    knobs = faults.Faults()
    app = FastAPI(title="Salesforce sandbox")
    day = 86_400.0

    def new_id(sobject: str) -> str:
        st.counter += 1
        n, digits = st.counter, ""
        while n:
            n, r = divmod(n, 62)
            digits = _B62[r] + digits
        return _PREFIX.get(sobject, "a00") + digits.rjust(12, "0") + "AAA"

    # ---------------------------------------------------------------- oauth
    @app.post("/services/oauth2/token")
    async def token(request: Request) -> Response:
        form = await form_fields(request)
        if form.get("grant_type") != "client_credentials":
            return JSONResponse(
                {"error": "unsupported_grant_type", "error_description": "grant type not supported"},
                status_code=400,
            )
        if form.get("client_id") != settings.client_id:
            st.count("token_invalid_client")
            return JSONResponse(
                {"error": "invalid_client_id", "error_description": "client identifier invalid"},
                status_code=400,
            )
        if form.get("client_secret") != settings.client_secret:
            st.count("token_invalid_client")
            return JSONResponse(
                {"error": "invalid_client", "error_description": "invalid client credentials"},
                status_code=400,
            )
        tok = "00D000000000001!" + secrets.token_urlsafe(72)
        st.sessions[tok] = Session(tok, time.monotonic())
        base = str(request.base_url).rstrip("/")
        return JSONResponse(
            {
                "access_token": tok,
                "signature": secrets.token_urlsafe(32),
                "token_format": "opaque",
                "scope": "api",
                "instance_url": base,
                "id": f"{base}/id/00D000000000001EAA/005000000000001AAA",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
        )

    # ---------------------------------------------------------------- guard
    def usage_header() -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={st.usage.count(day)}/{settings.daily_api_limit}"}

    async def guarded(request: Request, version: str, work: Any) -> Response:
        auth = request.headers.get("authorization", "")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        sess = st.sessions.get(value)
        now = time.monotonic()
        if sess is None or now - sess.last_used >= settings.session_timeout_s:
            st.count("401_INVALID_SESSION_ID")
            return _err(401, "INVALID_SESSION_ID", "Session expired or invalid")
        sess.last_used = now
        m = re.fullmatch(r"v(\d+\.\d)", version)
        if m is None or float(m.group(1)) < settings.min_api_version:
            return _err(404, "NOT_FOUND", "The requested resource does not exist")
        long_running = sum(1 for t in st.in_flight.values() if now - t >= settings.long_running_s)
        if long_running >= settings.max_long_running:
            st.count("403_REQUEST_LIMIT_EXCEEDED_concurrent")
            return _err(
                403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", **usage_header()
            )
        if not st.usage.try_hit(settings.daily_api_limit, day):
            st.count("403_REQUEST_LIMIT_EXCEEDED")
            return _err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", **usage_header())
        key = id(request)
        st.in_flight[key] = now
        try:
            await gate.wait()
            response: Response = await work()
        finally:
            st.in_flight.pop(key, None)
        response.headers.update(usage_header())
        return response

    def table(sobject: str) -> dict[str, dict[str, Any]]:
        return st.records.setdefault(sobject, {})

    def index(sobject: str) -> Index:
        if sobject not in st.indexes:
            ext = list(settings.schema.get(sobject, {}).get("external_ids", []))
            st.indexes[sobject] = Index(ext, lambda _f, v: str(v))
            for rid, rec in table(sobject).items():
                st.indexes[sobject].add(rid, rec)
        return st.indexes[sobject]

    # ---------------------------------------------------------------- validation
    def record_errors(
        sobject: str, rec: dict[str, Any], existing: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        merged = {**(existing or {}), **rec}
        errs: list[dict[str, Any]] = []
        missing = [f for f in settings.schema[sobject]["required"] if merged.get(f) in (None, "")]
        if missing:
            errs.append(
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": f"Required fields are missing: {missing}",
                    "fields": missing,
                }
            )
        if rec.get("Email") not in (None, "") and not valid_email(rec["Email"]):
            errs.append(
                {
                    "statusCode": "INVALID_EMAIL_ADDRESS",
                    "message": f"Email: invalid email address: {rec['Email']}",
                    "fields": ["Email"],
                }
            )
        if sobject == "CampaignMember":
            errs += campaign_member_errors(merged, existing)
        rule = settings.duplicate_rules.get(sobject)
        if rule and merged.get(rule) not in (None, ""):
            others = [
                rid for rid, r in table(sobject).items() if r.get(rule) == merged[rule] and r is not existing
            ]
            if others:
                errs.append(
                    {
                        "statusCode": "DUPLICATES_DETECTED",
                        "message": "Use one of these records?",
                        "fields": [],
                        "duplicateResult": {
                            "matchResults": [{"matchRecords": [{"record": {"Id": o}} for o in others]}]
                        },
                    }
                )
        return errs

    def campaign_member_errors(
        merged: dict[str, Any], existing: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        errs: list[dict[str, Any]] = []
        if merged.get("CampaignId") and merged["CampaignId"] not in table("Campaign"):
            errs.append(
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": ["CampaignId"],
                }
            )
        who = merged.get("ContactId") or merged.get("LeadId")
        if not who:
            errs.append(
                {
                    "statusCode": "REQUIRED_FIELD_MISSING",
                    "message": "Required fields are missing: [ContactId]",
                    "fields": ["ContactId"],
                }
            )
        elif who not in table("Contact") and who not in table("Lead"):
            errs.append(
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": ["ContactId"],
                }
            )
        status = merged.get("Status")
        if status not in (None, "") and status not in settings.campaign_member_statuses:
            errs.append(
                {
                    "statusCode": "FIELD_INTEGRITY_EXCEPTION",
                    "message": f"Status: bad value for restricted picklist field: {status}",
                    "fields": ["Status"],
                }
            )
        if existing is None and not errs:
            for r in table("CampaignMember").values():
                if (
                    r.get("CampaignId") == merged.get("CampaignId")
                    and (r.get("ContactId") or r.get("LeadId")) == who
                ):
                    errs.append(
                        {
                            "statusCode": "DUPLICATE_VALUE",
                            "message": "Already a campaign member.",
                            "fields": [],
                        }
                    )
                    break
        return errs

    def stamp(sobject: str, rid: str, rec: dict[str, Any], created: bool) -> None:
        now = _iso()
        target = table(sobject).setdefault(rid, {"Id": rid, "CreatedDate": now})
        index(sobject).remove(rid, target)
        target.update(rec)
        index(sobject).add(rid, target)
        target["LastModifiedDate"] = now
        target["SystemModstamp"] = now
        if created:
            target["CreatedDate"] = now

    # ---------------------------------------------------------------- collections upsert
    async def collections_upsert(request: Request, version: str, sobject: str, ext_field: str) -> Response:
        async def work() -> Response:
            if sobject not in settings.schema:
                return _err(404, "NOT_FOUND", "The requested resource does not exist")
            if ext_field not in settings.schema[sobject]["external_ids"]:
                return _err(
                    404,
                    "NOT_FOUND",
                    f"Provided external ID field does not exist or is not accessible: {ext_field}",
                )
            try:
                body = await request.json()
            except ValueError:
                return _err(400, "JSON_PARSER_ERROR", "Unexpected character in request body")
            records = body.get("records") if isinstance(body, dict) else None
            if not isinstance(records, list) or not records:
                return _err(400, "INVALID_FIELD", "records: a non-empty array is required")
            if len(records) > settings.max_collection:
                return _err(
                    400,
                    "EXCEEDED_ID_LIMIT",
                    f"record limit reached. cannot submit more than {settings.max_collection} records into this call",
                )
            all_or_none = bool(body.get("allOrNone", False))
            known = set(settings.schema[sobject]["fields"])
            for n, rec in enumerate(records):
                if not isinstance(rec, dict) or (rec.get("attributes") or {}).get("type") != sobject:
                    return _err(400, "INVALID_TYPE", f"records[{n}]: attributes.type must be {sobject}")
                if "Id" in rec:
                    return _err(
                        400, "INVALID_FIELD", f"records[{n}]: Id is not allowed in an upsert by external ID"
                    )
                for name in rec:
                    if name != "attributes" and name not in known:
                        return _err(
                            400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
                        )
            values = [r.get(ext_field) for r in records]
            plan: list[tuple[str, str | None, dict[str, Any], list[dict[str, Any]]]] = []
            for rec, value in zip(records, values, strict=True):
                fields = {k: v for k, v in rec.items() if k != "attributes"}
                errs: list[dict[str, Any]] = []
                matches: list[str] = []
                if value not in (None, ""):
                    if values.count(value) > 1:
                        errs.append(
                            {
                                "statusCode": "DUPLICATE_EXTERNAL_ID",
                                "message": f"Duplicate external id specified: {value}",
                                "fields": [ext_field],
                            }
                        )
                    elif (sobject, str(value)) in st.locked:
                        errs.append(
                            {
                                "statusCode": "UNABLE_TO_LOCK_ROW",
                                "message": "unable to obtain exclusive access to this record",
                                "fields": [],
                            }
                        )
                    matches = index(sobject).find(ext_field, value)
                    if len(matches) > 1:
                        errs.append(
                            {
                                "statusCode": "DUPLICATE_EXTERNAL_ID",
                                "message": f"{ext_field}: more than one record found for external id field: {matches}",
                                "fields": [ext_field],
                            }
                        )
                existing = table(sobject)[matches[0]] if len(matches) == 1 else None
                if not errs:
                    errs = record_errors(sobject, fields, existing)
                plan.append(
                    ("update" if existing else "create", matches[0] if existing else None, fields, errs)
                )
            failed = any(p[3] for p in plan)
            results: list[dict[str, Any]] = []
            if all_or_none and failed:
                for _kind, _rid, _fields, errs in plan:
                    errs = errs or [
                        {
                            "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
                            "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
                            "fields": [],
                        }
                    ]
                    results.append({"id": None, "success": False, "errors": errs, "created": False})
                st.count("all_or_none_rollbacks")
                return JSONResponse(results)
            for kind, rid, fields, errs in plan:
                if errs:
                    results.append({"id": None, "success": False, "errors": errs, "created": False})
                    continue
                rid = rid or new_id(sobject)
                stamp(sobject, rid, fields, kind == "create")
                results.append({"id": rid, "success": True, "errors": [], "created": kind == "create"})
            return JSONResponse(results)

        return await guarded(request, version, work)

    app.add_api_route(
        "/services/data/{version}/composite/sobjects/{sobject}/{ext_field}",
        collections_upsert,
        methods=["PATCH"],
    )

    # ---------------------------------------------------------------- single sObjects
    async def create_one(request: Request, version: str, sobject: str) -> Response:
        async def work() -> Response:
            if sobject not in settings.schema:
                return _err(404, "NOT_FOUND", "The requested resource does not exist")
            body = await request.json()
            unknown = [k for k in body if k != "attributes" and k not in settings.schema[sobject]["fields"]]
            if unknown:
                return _err(
                    400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}"
                )
            fields = {k: v for k, v in body.items() if k != "attributes"}
            errs = record_errors(sobject, fields, None)
            if errs:
                return JSONResponse(
                    [
                        {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
                        for e in errs
                    ],
                    status_code=400,
                )
            rid = new_id(sobject)
            stamp(sobject, rid, fields, True)
            return JSONResponse({"id": rid, "success": True, "errors": []}, status_code=201)

        return await guarded(request, version, work)

    async def get_one(request: Request, version: str, sobject: str, rid: str) -> Response:
        async def work() -> Response:
            rec = table(sobject).get(rid)
            if rec is None:
                return _err(404, "NOT_FOUND", "The requested resource does not exist")
            return JSONResponse(
                {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/{version}/sobjects/{sobject}/{rid}",
                    },
                    **rec,
                }
            )

        return await guarded(request, version, work)

    app.add_api_route("/services/data/{version}/sobjects/{sobject}", create_one, methods=["POST"])
    app.add_api_route("/services/data/{version}/sobjects/{sobject}/{rid}", get_one, methods=["GET"])

    # ---------------------------------------------------------------- SOQL
    async def query(request: Request, version: str) -> Response:
        async def work() -> Response:
            q = request.query_params.get("q", "")
            try:
                sobject, fields, rows = run_soql(q)
            except SoqlError as exc:
                return _err(400, "MALFORMED_QUERY", str(exc))
            batch = settings.query_batch_size
            opt = re.search(r"batchSize=(\d+)", request.headers.get("sforce-query-options", ""))
            if opt:
                batch = max(200, min(int(opt.group(1)), 2000, settings.query_batch_size))
            shaped = [
                {
                    "attributes": {
                        "type": sobject,
                        "url": f"/services/data/{version}/sobjects/{sobject}/{r['Id']}",
                    },
                    **{f: r.get(f) for f in fields},
                }
                for r in rows
            ]
            return page(version, "01g" + secrets.token_hex(6).upper(), shaped, 0, batch)

        return await guarded(request, version, work)

    def page(version: str, locator: str, rows: list[dict[str, Any]], start: int, batch: int) -> JSONResponse:
        chunk = rows[start : start + batch]
        done = start + batch >= len(rows)
        body: dict[str, Any] = {"totalSize": len(rows), "done": done, "records": chunk}
        if not done:
            st.cursors[locator] = rows
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{start + batch}"
        return JSONResponse(body)

    async def query_more(request: Request, version: str, cursor: str) -> Response:
        async def work() -> Response:
            locator, _, pos = cursor.rpartition("-")
            rows = st.cursors.get(locator)
            if rows is None or not pos.isdigit():
                return _err(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
            start = int(pos)
            opt = re.search(r"batchSize=(\d+)", request.headers.get("sforce-query-options", ""))
            batch = (
                settings.query_batch_size
                if not opt
                else max(200, min(int(opt.group(1)), 2000, settings.query_batch_size))
            )
            return page(version, locator, rows, start, batch)

        return await guarded(request, version, work)

    app.add_api_route("/services/data/{version}/query", query, methods=["GET"])
    app.add_api_route("/services/data/{version}/query/{cursor}", query_more, methods=["GET"])

    def run_soql(q: str) -> tuple[str, list[str], list[dict[str, Any]]]:
        m = re.fullmatch(
            r"\s*SELECT\s+(?P<f>.+?)\s+FROM\s+(?P<o>\w+)(?:\s+WHERE\s+(?P<w>.+?))?"
            r"(?:\s+ORDER\s+BY\s+(?P<ob>\w+)(?:\s+(?P<dir>ASC|DESC))?)?(?:\s+LIMIT\s+(?P<l>\d+))?\s*",
            q,
            re.IGNORECASE | re.DOTALL,
        )
        if not m:
            raise SoqlError(f"unexpected token in query: {q[:80]!r}")
        sobject = m.group("o")
        if sobject not in settings.schema:
            raise SoqlError(f"sObject type '{sobject}' is not supported.")
        allowed = {
            "Id",
            "CreatedDate",
            "LastModifiedDate",
            "SystemModstamp",
            *settings.schema[sobject]["fields"],
        }
        fields = [f.strip() for f in m.group("f").split(",")]
        bad = [f for f in fields if f not in allowed]
        if bad:
            raise SoqlError(f"No such column '{bad[0]}' on entity '{sobject}'.")
        rows = list(table(sobject).values())
        if m.group("w"):
            for cond in re.split(r"\s+AND\s+", m.group("w"), flags=re.IGNORECASE):
                c = re.fullmatch(r"\s*(\w+)\s*(=|!=|>=|<=|>|<)\s*('(?:[^']*)'|[\w:.+-]+)\s*", cond)
                if not c or c.group(1) not in allowed:
                    raise SoqlError(f"unexpected condition: {cond!r}")
                name, op, lit = c.group(1), c.group(2), c.group(3).strip("'")
                rows = [r for r in rows if _compare(r.get(name), op, lit)]
        if m.group("ob"):
            rows.sort(
                key=lambda r: str(r.get(m.group("ob")) or ""),
                reverse=(m.group("dir") or "").upper() == "DESC",
            )
        if m.group("l"):
            rows = rows[: int(m.group("l"))]
        return sobject, fields, rows

    # ---------------------------------------------------------------- admin
    def state() -> dict[str, Any]:
        return {
            "records": st.records,
            "api_usage": st.usage.count(day),
            "in_flight": len(st.in_flight),
            "held": gate.waiting,
            "sessions": len(st.sessions),
            "counters": st.counters,
        }

    def reset() -> None:
        knobs.rules.clear()
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
        rid = new_id(sobject)
        stamp(sobject, rid, await request.json(), True)
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

    app.include_router(router)
    faults.install(app, knobs)
    app.state.sandbox = st
    return app


class SoqlError(Exception):
    pass


def _compare(value: Any, op: str, lit: str) -> bool:
    if lit.lower() == "null":
        return (value is None) == (op == "=")
    left: Any = "" if value is None else str(value)
    right: Any = lit
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", lit) and value:
        left = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.000+0000").replace(tzinfo=UTC)
        right = datetime.fromisoformat(lit.replace("Z", "+00:00"))
    ops = {
        "=": left == right,
        "!=": left != right,
        ">": left > right,
        "<": left < right,
        ">=": left >= right,
        "<=": left <= right,
    }
    return bool(ops[op])
