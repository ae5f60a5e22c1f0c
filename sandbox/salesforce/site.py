"""What every Salesforce resource router shares: the settings, the org's records and indexes,
the request guard (session, API version, long-running requests, the 24 h API limit, held
requests), record validation and stamping."""

from __future__ import annotations

import re
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from sandbox import faults
from sandbox.vendor_common import (
    Gate,
    Index,
    SlidingWindow,
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


def iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def err(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        [{"message": message, "errorCode": code}], status_code=status, headers=headers or None
    )


DAY = 86_400.0


@dataclass
class Site:
    """One emulated org: what the routers of `create_app` close over."""

    settings: SalesforceSettings
    st: SalesforceState = field(default_factory=SalesforceState)
    gate: Gate = field(default_factory=Gate)
    knobs: faults.Faults = field(default_factory=faults.Faults)

    def new_id(self, sobject: str) -> str:
        self.st.counter += 1
        n, digits = self.st.counter, ""
        while n:
            n, r = divmod(n, 62)
            digits = _B62[r] + digits
        return _PREFIX.get(sobject, "a00") + digits.rjust(12, "0") + "AAA"

    def usage_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.st.usage.count(DAY)}/{self.settings.daily_api_limit}"}

    async def guarded(self, request: Request, version: str, work: Any) -> Response:
        auth = request.headers.get("authorization", "")
        value = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        sess = self.st.sessions.get(value)
        now = time.monotonic()
        if sess is None or now - sess.last_used >= self.settings.session_timeout_s:
            self.st.count("401_INVALID_SESSION_ID")
            return err(401, "INVALID_SESSION_ID", "Session expired or invalid")
        sess.last_used = now
        m = re.fullmatch(r"v(\d+\.\d)", version)
        if m is None or float(m.group(1)) < self.settings.min_api_version:
            return err(404, "NOT_FOUND", "The requested resource does not exist")
        long_running = sum(1 for t in self.st.in_flight.values() if now - t >= self.settings.long_running_s)
        if long_running >= self.settings.max_long_running:
            self.st.count("403_REQUEST_LIMIT_EXCEEDED_concurrent")
            return err(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "ConcurrentPerOrgLongTxn Limit exceeded.",
                **self.usage_header(),
            )
        if not self.st.usage.try_hit(self.settings.daily_api_limit, DAY):
            self.st.count("403_REQUEST_LIMIT_EXCEEDED")
            return err(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", **self.usage_header())
        key = id(request)
        self.st.in_flight[key] = now
        try:
            await self.gate.wait()
            response: Response = await work()
        finally:
            self.st.in_flight.pop(key, None)
        response.headers.update(self.usage_header())
        return response

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.st.records.setdefault(sobject, {})

    def index(self, sobject: str) -> Index:
        if sobject not in self.st.indexes:
            ext = list(self.settings.schema.get(sobject, {}).get("external_ids", []))
            self.st.indexes[sobject] = Index(ext, lambda _f, v: str(v))
            for rid, rec in self.table(sobject).items():
                self.st.indexes[sobject].add(rid, rec)
        return self.st.indexes[sobject]

    def record_errors(
        self, sobject: str, rec: dict[str, Any], existing: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        merged = {**(existing or {}), **rec}
        errs: list[dict[str, Any]] = []
        missing = [f for f in self.settings.schema[sobject]["required"] if merged.get(f) in (None, "")]
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
            errs += self.campaign_member_errors(merged, existing)
        rule = self.settings.duplicate_rules.get(sobject)
        if rule and merged.get(rule) not in (None, ""):
            others = [
                rid
                for rid, r in self.table(sobject).items()
                if r.get(rule) == merged[rule] and r is not existing
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
        self, merged: dict[str, Any], existing: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        errs: list[dict[str, Any]] = []
        if merged.get("CampaignId") and merged["CampaignId"] not in self.table("Campaign"):
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
        elif who not in self.table("Contact") and who not in self.table("Lead"):
            errs.append(
                {
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": "invalid cross reference id",
                    "fields": ["ContactId"],
                }
            )
        status = merged.get("Status")
        if status not in (None, "") and status not in self.settings.campaign_member_statuses:
            errs.append(
                {
                    "statusCode": "FIELD_INTEGRITY_EXCEPTION",
                    "message": f"Status: bad value for restricted picklist field: {status}",
                    "fields": ["Status"],
                }
            )
        if existing is None and not errs:
            for r in self.table("CampaignMember").values():
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

    def stamp(self, sobject: str, rid: str, rec: dict[str, Any], created: bool) -> None:
        now = iso()
        target = self.table(sobject).setdefault(rid, {"Id": rid, "CreatedDate": now})
        self.index(sobject).remove(rid, target)
        target.update(rec)
        self.index(sobject).add(rid, target)
        target["LastModifiedDate"] = now
        target["SystemModstamp"] = now
        if created:
            target["CreatedDate"] = now
