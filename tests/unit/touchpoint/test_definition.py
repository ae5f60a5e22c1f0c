"""The touchpoint definition and its Signal flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from client.router import flows_for
from eventsync.definitions import Definitions
from eventsync.definitions.loader import load_definitions
from eventsync.definitions.touchpoint import TouchpointDefinition, TouchpointDestination
from eventsync.flows.decide import render
from eventsync.flows.events import PlatformEvent, parse_body
from eventsync.registration import Registration
from eventsync.touchpoint.flow import all_flows, as_flow


def tp(**over: object) -> TouchpointDefinition:
    return TouchpointDefinition.model_validate(
        {"account": "ACME", "connection": "tp", "platform": "plat", **over}
    )


def test_defaults() -> None:
    d = tp()
    assert (d.synced_tag, d.related_link_tag, d.on_leave) == (
        "Touchpoint: Synced",
        "Touchpoint: Related Link",
        "deactivate",
    )
    with pytest.raises(ValidationError):
        tp(on_leave="hide")
    with pytest.raises(ValidationError):
        tp(typo=1)


def test_flow_routes_every_registration_and_session_event_to_the_touchpoint_adapter() -> None:
    f = as_flow(tp(events=[1001, "EXPO"], sessions=False))
    assert isinstance(f.destination, TouchpointDestination)
    assert f.destination.mapping is None and f.activate_for is None and not f.filters
    assert all(e.startswith("registration.") for e in f.source.events)
    body = {
        "id": "e1",
        "type": "registration.status_changed",
        "accountCode": "ACME",
        "eventCode": "RENAMED",
        "eventId": 1001,
        "object": "registration",
        "recordKey": "R1",
        "previousStatus": "New",
        "data": {"registrationCode": "R1", "eventId": 1001, "eventCode": "RENAMED"},
    }
    [ev] = parse_body(body)  # the platform's own webhook shape
    assert ev.record_key == "R1" and ev.record["registrationCode"] == "R1"
    defs = Definitions(touchpoint=tp(events=[1001, "EXPO"], sessions=False))
    assert [x.name for x in flows_for(all_flows(defs), ev)] == ["touchpoint"]  # by stable id, whatever the code
    other = PlatformEvent(
        id="e2",
        type="registration.created",
        account="ACME",
        record_key="R2",
        data={"registration": {"registrationCode": "R2", "eventId": 7, "eventCode": "OTHER"}},
    )
    assert flows_for(all_flows(defs), other) == []  # another event: never routed to the Touchpoint flow
    expo = other.model_copy(
        update={"data": {"registration": {"registrationCode": "R3", "eventCode": "EXPO"}}}
    )
    assert len(flows_for(all_flows(defs), expo)) == 1
    current = Registration(record=ev.record)
    assert render(f, ev, current, current) == ev.record  # no mapping: the record as it is


def test_all_flows_adds_the_touchpoint_flow() -> None:
    assert [f.name for f in all_flows(Definitions(touchpoint=tp(name="tp1")))] == ["tp1"]
    assert all_flows(Definitions(touchpoint=tp(enabled=False))) == []


def test_validate_names_unknown_touchpoint_connections_with_lines(tmp_path: Path) -> None:
    f = tmp_path / "defs.yaml"
    f.write_text(
        "connections:\n"
        "  - {name: tp, vendor: touchpoint, base_url: 'http://127.0.0.1:1', auth: {kind: none}}\n"
        "touchpoint:\n"
        "  account: ACME\n"
        "  connection: tp\n"
        "  platform: plat\n"
    )
    result = load_definitions(f, check_secrets=False)
    assert result.definitions is None
    [problem] = result.errors
    assert (problem.path, problem.line) == ("touchpoint.platform", 6)
    assert "unknown connection 'plat'" in problem.message
