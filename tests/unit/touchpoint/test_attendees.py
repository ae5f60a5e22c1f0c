"""Registrant -> attendee planning: synced by status tag, leaving, fields, identity."""

from __future__ import annotations

from typing import Any

import pytest

from eventsync.touchpoint.attendees import PlanError, differs, plan_attendee
from eventsync.touchpoint.identity import IdentityError, event_id_of, matches_event

SYNCED = "Touchpoint: Synced"


def reg(status_tags: list[str], **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "registrationCode": "R1",
        "eventId": 1001,
        "eventCode": "SUMMIT",
        "registrationStatusLabel": "New",
        "attendeeTypeCode": "ATT",
        "attendeeType": "Attendee",
        "isActive": True,
        "profile": {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@ex.com",
            "organization": "AE",
            "position": "CTO",
        },
        "tags": {"registrationStatus": [{"name": t, "label": t} for t in status_tags]},
    }
    r.update(over)
    return r


def test_synced_status_upserts_all_fields() -> None:
    p = plan_attendee(reg([SYNCED, "Other"]), SYNCED)
    assert p.action == "upsert" and p.event_id == 1001 and p.registration_code == "R1"
    assert p.fields == {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "email": "ada@ex.com",
        "organization": "AE",
        "job_title": "CTO",
        "attendee_type": "Attendee",
        "status": "New",
        "event_code": "SUMMIT",
    }


def test_untagged_status_and_inactive_registration_leave() -> None:
    p = plan_attendee(reg(["Other"], registrationStatusLabel="Cancelled"), SYNCED)
    assert p.action == "leave" and "'Cancelled' does not carry" in p.reason
    assert plan_attendee(reg([SYNCED], isActive=False), SYNCED).action == "leave"


def test_configurable_tag() -> None:
    assert plan_attendee(reg(["App"]), "App").action == "upsert"
    assert plan_attendee(reg([SYNCED]), "App").action == "leave"


def test_refusals_name_the_record() -> None:
    with pytest.raises(PlanError, match="no email"):
        plan_attendee(reg([SYNCED], profile={"firstName": "X"}), SYNCED)
    with pytest.raises(PlanError, match="includeList=tags"):
        r = reg([SYNCED])
        del r["tags"]
        plan_attendee(r, SYNCED)
    with pytest.raises(PlanError, match="eventId"):
        plan_attendee(reg([SYNCED], eventId=None), SYNCED)


def test_differs() -> None:
    p = plan_attendee(reg([SYNCED]), SYNCED)
    same = {**p.fields, "active": True}
    assert differs(same, p) == []
    assert differs({**same, "job_title": "CEO"}, p) == ["job_title"]
    assert differs({**same, "active": False}, p) == ["active"]
    assert differs(None, p) == ["(absent)"]


def test_event_identity() -> None:
    assert event_id_of({"eventId": "1001"}, "x") == 1001
    with pytest.raises(IdentityError):
        event_id_of({"eventCode": "SUMMIT"}, "x")
    rec = {"eventId": 1001, "eventCode": "NEWCODE"}
    assert matches_event(rec, [1001]) and matches_event(rec, ["1001"]) and matches_event(rec, [])
    assert not matches_event(rec, ["SUMMIT"])  # a code stops matching once renamed: use ids
