"""Activate-for, filters and mappings, on platform-shaped records (the transforms' engine)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.decide import compiled, decide, render
from eventsync.flows.events import PlatformEvent, parse_body
from eventsync.registration import Registration, previous_of, registration_of


def flow(**over: Any) -> FlowDefinition:
    raw: dict[str, Any] = {
        "name": "f",
        "source": {"account": "A", "events": ["registration.status_changed", "registration.created"]},
        "activate_for": {"subject": "status", "op": "changed_to", "value": "Signal: Registered"},
        "filters": [{"subject": "question", "code": "DIET", "op": "is_not", "value": "Skip"}],
        "destination": {
            "kind": "webhook",
            "connection": "c",
            "mapping": {
                "fields": {"email": "$.record.profile.email", "event": "$.event.eventCode"},
                "branches": [
                    {
                        "when": {"subject": "attendee_type", "op": "is", "value": "Signal: VIP"},
                        "fields": {"vip": {"value": "yes"}},
                        "omit": ["event"],
                    }
                ],
            },
        },
    }
    raw.update(over)
    return FlowDefinition.model_validate(raw)


def tag(name: str) -> dict[str, Any]:
    return {"tagId": 1, "name": name, "label": name}


def webhook(
    status_tags: list[str],
    att_tags: list[str] = (),
    diet: str = "None",
    etype: str = "registration.status_changed",
) -> dict[str, Any]:  # type: ignore[assignment]
    # The platform emulator's webhook shape (docs/sandbox.md, "Signed webhooks").
    return {
        "id": "e1",
        "type": etype,
        "occurredAt": "2026-11-26T18:00:00Z",
        "accountCode": "A",
        "eventCode": "EV",
        "eventId": 1001,
        "object": "registration",
        "recordKey": "R1",
        "sequence": 2,
        "previousStatus": "New",
        "data": {
            "registrationCode": "R1",
            "eventCode": "EV",
            "accountCode": "A",
            "registrationStatusLabel": "Confirmed",
            "attendeeTypeCode": "VIP",
            "profile": {"email": "a@b.c"},
            "registrationQuestions": {
                "question": [
                    {
                        "questionId": 3,
                        "questionCode": "DIET",
                        "answers": {"answer": [{"value": diet}]},
                        "tags": [],
                    }
                ]
            },
            "customProperties": [{"propertyId": 2, "name": "Segment", "value": "SMB", "tags": [tag("Seg")]}],
            "tags": {
                "event": [tag("Signal: Flagship")],
                "registrationStatus": [tag(t) for t in status_tags],
                "attendeeType": [tag(t) for t in att_tags],
            },
        },
    }


def parts(
    doc: dict[str, Any], prev_tags: tuple[str, ...] = ()
) -> tuple[PlatformEvent, Registration, Registration]:
    (ev,) = parse_body(doc)
    cur = registration_of(ev.record, ev.event_code)
    return ev, cur, previous_of(cur, ev.data["previous_status"], prev_tags)


def test_platform_record_becomes_a_registration() -> None:
    ev, cur, prev = parts(webhook(["Signal: Registered"], ["Signal: VIP"]))
    assert ev.record_key == "R1" and ev.data["previous_status"] == "New"
    assert cur.status == "Confirmed" and cur.status_tags == ("Signal: Registered",)
    assert cur.attendee_type_tags == ("Signal: VIP",) and cur.event_tags == ("Signal: Flagship",)
    assert cur.answers["DIET"].value == "None" and cur.properties["Segment"].tags == ("Seg",)
    assert prev.status == "New" and prev.status_tags == ()


def test_activated_with_the_rules_that_decided() -> None:
    ev, cur, prev = parts(webhook(["Signal: Registered"]))
    d = decide(flow(), ev, cur, prev)
    assert d.activated
    assert "status tags changed to 'Signal: Registered'" in d.rule and "filters[0]" in d.rule


def test_skipped_by_activate_for_filter_or_source() -> None:
    ev, cur, _ = parts(webhook(["Signal: Registered"]))
    # moving between two statuses that both carry the tag is not a change
    same = previous_of(cur, "New", ("Signal: Registered",))
    d = decide(flow(), ev, cur, same)
    assert not d.activated and d.rule.startswith("activate_for did not match") and "changed to" in d.rule
    ev2, cur2, prev2 = parts(webhook(["Signal: Registered"], diet="Skip"))
    d2 = decide(flow(), ev2, cur2, prev2)
    assert not d2.activated and d2.rule.startswith("filters[0] did not match")
    ev3, cur3, prev3 = parts(webhook(["Signal: Registered"], etype="registration.updated"))
    d3 = decide(flow(), ev3, cur3, prev3)
    assert not d3.activated and "not a trigger" in d3.rule
    d4 = decide(
        flow(source={"account": "A", "events": ["registration.status_changed"], "event_codes": ["X"]}),
        ev,
        cur,
        None,
    )
    assert not d4.activated and "'EV' is not in ['X']" in d4.rule


def test_mapping_branches_by_tag() -> None:
    ev, cur, prev = parts(webhook(["Signal: Registered"]))
    assert render(flow(), ev, cur, prev) == {"email": "a@b.c", "event": "EV"}
    ev, cur, prev = parts(webhook(["Signal: Registered"], ["Signal: VIP"]))
    assert render(flow(), ev, cur, prev) == {"email": "a@b.c", "vip": "yes"}


def test_no_mapping_sends_the_record_and_advanced_webhook_builds_a_body() -> None:
    ev, cur, prev = parts(webhook(["Signal: Registered"]))
    plain = flow(destination={"kind": "webhook", "connection": "c"})
    assert render(plain, ev, cur, prev)["registrationCode"] == "R1"
    adv = flow(
        destination={
            "kind": "advanced_webhook",
            "connection": "c",
            "mapping": {
                "body": {
                    "template": {"person": {"email": "x", "kind": "lead"}, "ids": ["R"]},
                    "bind": {"person.email": "$.record.profile.email", "ids[0]": "$.record.registrationCode"},
                }
            },
        }
    )
    assert render(adv, ev, cur, prev) == {"person": {"email": "a@b.c", "kind": "lead"}, "ids": ["R1"]}


def test_only_changed_to_needs_the_previous_status() -> None:
    assert compiled(flow()).needs_previous
    assert not compiled(flow(activate_for={"subject": "status", "op": "is", "value": "X"})).needs_previous


def test_definition_errors_name_the_flow_and_field() -> None:
    with pytest.raises(ValidationError, match=r"flow 'f', field 'email'.*not valid JSONPath"):
        flow(
            destination={
                "kind": "webhook",
                "connection": "c",
                "mapping": {"fields": {"email": "$.record[?("}},
            }
        )
    with pytest.raises(ValidationError, match="advanced_webhook mapping has a `body`"):
        flow(destination={"kind": "advanced_webhook", "connection": "c", "mapping": {"fields": {"a": "$.x"}}})
    with pytest.raises(ValidationError, match="webhook mapping has `fields`"):
        flow(destination={"kind": "webhook", "connection": "c", "mapping": {"body": {"template": {}}}})
