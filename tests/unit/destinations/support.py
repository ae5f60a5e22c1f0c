"""Connections, flows and events for the destination tests (unit and end to end) and the benchmark."""

from __future__ import annotations

import os
import uuid
from typing import Any

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.events import PlatformEvent

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
        "mapping": {
            "fields": {
                "email": "$.record.profile.email",
                "firstName": "$.record.profile.firstName",
                "registrationCode": "$.record.registrationCode",
            }
        },
        "program": {
            "ref": "$.answers.MKTO_PROGRAM",
            "status": {
                "path": "$.status",
                "transforms": [{"op": "lookup", "table": {"Cancelled": "No Show"}}],
            },
        },
        "campaign": {"value": "2001"},
    },
    "hubspot": {
        "kind": "hubspot",
        "mapping": {
            "fields": {
                "email": "$.record.profile.email",
                "firstname": "$.record.profile.firstName",
                "registration_code": "$.record.registrationCode",
                "event_status": "$.status",
            }
        },
    },
    "salesforce": {
        "kind": "salesforce",
        "sobject": "Lead",
        "external_id_field": "Registration_Code__c",
        "mapping": {
            "fields": {
                "Registration_Code__c": "$.record.registrationCode",
                "Email": "$.record.profile.email",
                "LastName": "$.record.profile.lastName",
                "Company": {"value": "Unknown"},
            }
        },
        "campaign": {"ref": "$.answers.SF_CAMPAIGN"},
    },
    "eloqua": {
        "kind": "eloqua",
        "mapping": {
            "fields": {
                "C_EmailAddress": "$.record.profile.email",
                "C_FirstName": "$.record.profile.firstName",
                "C_Registration_Code1": "$.record.registrationCode",
            }
        },
        "activity": {"campaign": "$.answers.ELQ_CAMPAIGN", "asset_type": "Event Session"},
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


QUESTIONS = {"MKTO_PROGRAM": "1001", "SF_CAMPAIGN": None, "ELQ_CAMPAIGN": "C-77"}


def registration(
    code: str, seq: int, status: str = "Registered", email: str | None = None, **qs: Any
) -> dict[str, Any]:
    """A registration as the platform sends it (docs/sandbox.md): the program and campaigns are the
    answers to registration questions (None: not answered)."""
    answers = {**QUESTIONS, **qs}
    return {
        "registrationCode": code,
        "registrationStatusLabel": status,
        "seq": seq,
        "profile": {
            "email": email if email is not None else f"{code.lower()}@example.com",
            "firstName": f"First{seq}",
            "lastName": f"Last-{code}",
        },
        "registrationQuestions": {
            "question": [
                {"questionCode": q, "answers": {"answer": [] if v is None else [{"value": v}]}}
                for q, v in answers.items()
            ]
        },
    }


def event_doc(
    code: str, seq: int, status: str = "Registered", email: str | None = None, **qs: Any
) -> dict[str, Any]:
    return {
        "id": f"evt-{code}-{seq}-{uuid.uuid4().hex[:6]}",
        "type": "registration.status_changed",
        "account": "ACME",
        "event_code": "SUMMIT",
        "data": {"registration": registration(code, seq, status, email, **qs)},
    }


def platform_event(
    code: str, seq: int = 0, status: str = "Registered", email: str | None = None, **qs: Any
) -> PlatformEvent:
    doc = event_doc(code, seq, status, email, **qs)
    return PlatformEvent(
        id=doc["id"], type=doc["type"], account="ACME", event_code="SUMMIT", record_key=code, data=doc["data"]
    )
