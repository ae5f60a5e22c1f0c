"""Connections, flows and events for the destination tests (unit and end to end) and the benchmark."""

from __future__ import annotations

import os
import uuid
from typing import Any

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.signal.events import PlatformEvent

SECRETS = {
    "ES_TEST_MARKETO_SECRET": "sandbox-marketo-secret",
    "ES_TEST_HUBSPOT_TOKEN": "pat-na1-sandbox-0000",
    "ES_TEST_SALESFORCE_SECRET": "sandbox-salesforce-secret",
    "ES_TEST_ELOQUA_PASSWORD": "sandbox-password",
}
os.environ.update(SECRETS)


def connection(vendor: str, url: str, name: str | None = None) -> Connection:
    name = name or f"{vendor}-{uuid.uuid4().hex[:6]}"
    auth: dict[str, Any]
    if vendor == "marketo":
        auth = {
            "kind": "oauth2_client_credentials",
            "token_url": f"{url}/identity/oauth/token",
            "client_id": "sandbox-marketo-client",
            "client_secret": "${env:ES_TEST_MARKETO_SECRET}",
            "token_request": "query",
        }
    elif vendor == "hubspot":
        auth = {"kind": "bearer", "token": "${env:ES_TEST_HUBSPOT_TOKEN}"}
    elif vendor == "salesforce":
        auth = {
            "kind": "oauth2_client_credentials",
            "token_url": f"{url}/services/oauth2/token",
            "client_id": "sandbox-salesforce-client",
            "client_secret": "${env:ES_TEST_SALESFORCE_SECRET}",
        }
    else:
        auth = {
            "kind": "basic",
            "username": "api.user",
            "site": "SandboxCo",
            "password": "${env:ES_TEST_ELOQUA_PASSWORD}",
        }
    return Connection.model_validate({"name": name, "vendor": vendor, "base_url": url, "auth": auth})


DESTINATIONS: dict[str, dict[str, Any]] = {
    "marketo": {
        "kind": "marketo",
        "fields": {
            "email": "$.profile.email",
            "firstName": "$.profile.firstName",
            "registrationCode": "$.registrationCode",
        },
        "program": {
            "ref": {"from": "$.event_questions.MKTO_PROGRAM"},
            "status": "$.status",
            "status_map": {"Cancelled": "No Show"},
        },
        "campaign": {"id": "2001"},
    },
    "hubspot": {
        "kind": "hubspot",
        "properties": {
            "email": "$.profile.email",
            "firstname": "$.profile.firstName",
            "registration_code": "$.registrationCode",
            "event_status": "$.status",
        },
    },
    "salesforce": {
        "kind": "salesforce",
        "sobject": "Lead",
        "external_id_field": "Registration_Code__c",
        "fields": {
            "Registration_Code__c": "$.registrationCode",
            "Email": "$.profile.email",
            "LastName": "$.profile.lastName",
            "Company": "=Unknown",
        },
        "campaign": {"ref": {"from": "$.event_questions.SF_CAMPAIGN"}, "status": "$.status"},
    },
    "eloqua": {
        "kind": "eloqua",
        "fields": {
            "C_EmailAddress": "$.profile.email",
            "C_FirstName": "$.profile.firstName",
            "C_Registration_Code1": "$.registrationCode",
        },
        "activity": {
            "campaign": {"from": "$.event_questions.ELQ_CAMPAIGN"},
            "asset_type": "Event Session",
            "activity_type": "$.status",
        },
    },
}


def flow(vendor: str, conn: str, dest: dict[str, Any] | None = None, **over: Any) -> FlowDefinition:
    raw: dict[str, Any] = {
        "name": over.pop("name", f"{vendor}-{uuid.uuid4().hex[:8]}"),
        "source": {
            "account": "ACME",
            "events": ["registration.created", "registration.updated", "registration.status_changed"],
        },
        "destination": {**DESTINATIONS[vendor], **(dest or {}), "connection": conn},
        "shards": 2,
        "idle_finish_s": 30,
    }
    raw.update(over)
    return FlowDefinition.model_validate(raw)


def registration(code: str, seq: int, status: str = "Registered", email: str | None = None) -> dict[str, Any]:
    return {
        "registrationCode": code,
        "status": status,
        "seq": seq,
        "profile": {
            "email": email if email is not None else f"{code.lower()}@example.com",
            "firstName": f"First{seq}",
            "lastName": f"Last-{code}",
        },
        "event_questions": {"MKTO_PROGRAM": "1001", "SF_CAMPAIGN": None, "ELQ_CAMPAIGN": "C-77"},
    }


def event_doc(
    code: str, seq: int, status: str = "Registered", email: str | None = None, **qs: Any
) -> dict[str, Any]:
    reg = registration(code, seq, status, email)
    reg["event_questions"].update(qs)
    return {
        "id": f"evt-{code}-{seq}-{uuid.uuid4().hex[:6]}",
        "type": "registration.status_changed",
        "account": "ACME",
        "event_code": "SUMMIT",
        "data": {"registration": reg},
    }


def platform_event(
    code: str, seq: int = 0, status: str = "Registered", email: str | None = None, **qs: Any
) -> PlatformEvent:
    doc = event_doc(code, seq, status, email, **qs)
    return PlatformEvent(
        id=doc["id"], type=doc["type"], account="ACME", event_code="SUMMIT", record_key=code, data=doc["data"]
    )
