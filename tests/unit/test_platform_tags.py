"""One tag reader: a Signal rule and the Touchpoint sync see the same tags on the same record,
also when the platform gives a tag by its label only."""

from __future__ import annotations

from typing import Any

from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.decide import decide
from eventsync.flows.events import parse_body
from eventsync.platform.tags import tag_names
from eventsync.registration import registration_of
from eventsync.touchpoint.attendees import plan_attendee
from eventsync.touchpoint.links import related_links

REGISTERED, SYNCED, LINK = "Signal: Registered", "Touchpoint: Synced", "Touchpoint: Related Link"


def labelled(name: str) -> dict[str, Any]:
    return {"tagId": 7, "label": name}


def record() -> dict[str, Any]:
    return {
        "registrationCode": "R1",
        "accountCode": "A",
        "eventCode": "EV",
        "eventId": 1001,
        "registrationStatusLabel": "New",
        "isActive": True,
        "profile": {"email": "ada@ex.com", "firstName": "Ada"},
        "tags": {
            "registrationStatus": [labelled(REGISTERED), labelled(SYNCED)],
            "event": [],
            "attendeeType": [],
        },
    }


def test_the_reader_takes_names_labels_and_strings() -> None:
    raw = [{"tagId": 1, "name": "N", "label": "shown"}, {"label": "L"}, "S", {"tagId": 2}, 3, {"name": ""}]
    assert tag_names(raw) == ("N", "L", "S")
    assert tag_names(None) == () and tag_names({"name": "x"}) == ()


def test_a_signal_rule_sees_a_labelled_status_tag() -> None:
    flow = FlowDefinition.model_validate(
        {
            "name": "f",
            "source": {"account": "A", "events": ["registration.created"]},
            "activate_for": {"subject": "status", "op": "is", "value": REGISTERED},
            "destination": {
                "kind": "webhook",
                "connection": "c",
                "mapping": {"fields": {"e": "$.record.profile.email"}},
            },
        }
    )
    (event,) = parse_body(
        {
            "id": "e1",
            "type": "registration.created",
            "occurredAt": "2026-11-26T18:00:00Z",
            "accountCode": "A",
            "eventCode": "EV",
            "eventId": 1001,
            "object": "registration",
            "recordKey": "R1",
            "sequence": 1,
            "data": record(),
        }
    )
    current = registration_of(event.record, event.event_code)
    assert decide(flow, event, current, None).activated


def test_the_touchpoint_sync_sees_the_same_labelled_tag() -> None:
    plan = plan_attendee(record(), SYNCED)
    assert plan.action == "upsert", plan.reason


def test_a_related_link_field_tagged_by_label_counts() -> None:
    session = {
        "sessionCode": "S1",
        "customFields": [
            {
                "fieldId": 1,
                "name": "Slides",
                "position": 1,
                "value": "https://ex.com/s",
                "tags": [labelled(LINK)],
            }
        ],
    }
    assert [link.url for link in related_links(session, LINK).links] == ["https://ex.com/s"]
