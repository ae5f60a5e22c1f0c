"""Library-level tests of the vendor adapters against the emulators over loopback (no Temporal)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from pydantic import ValidationError

from client.commands.flows import describe
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem
from eventsync.destinations.common import fields_of, seconds_until_midnight, value_of, waves
from eventsync.flows.decide import render
from eventsync.flows.delivery import deliver_batch
from eventsync.flows.ordering import EventOutcome, ShardState
from eventsync.http import ConnectionPool
from eventsync.registration import registration_of
from sandbox import hubspot, marketo
from sandbox.serving import served
from tests.unit.destinations.support import connection, flow, platform_event


def test_waves_keep_one_key_per_call_and_order() -> None:
    got = waves(["a", "b", "a", "c", "a"], key=lambda x: x)
    assert got == [["a", "b", "c"], ["a"], ["a"]]


def test_quota_reset_is_next_midnight_in_the_vendor_zone() -> None:
    noon_utc = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)  # 06:00 in Chicago (CST)
    assert seconds_until_midnight("America/Chicago", noon_utc) == 18 * 3600


def test_settings_name_what_is_wrong() -> None:
    with pytest.raises(ValidationError, match="lookup_field 'externalKey' must be one of the mapping's"):
        flow("marketo", "c", {"lookup_field": "externalKey"})
    with pytest.raises(ValidationError, match="give one of path, value"):
        flow("marketo", "c", {"campaign": {"value": "1", "path": "$.x"}})
    omit = {"when": {"subject": "status", "op": "is", "value": "Staff"}, "omit": ["email"]}
    with pytest.raises(ValidationError, match=r"branches\[0\] omits 'email' \(lookup_field\)"):
        flow("marketo", "c", {"mapping": {"fields": {"email": "$.record.profile.email"}, "branches": [omit]}})
    # a bad path in a step source is a validation error naming the flow and the step
    with pytest.raises(ValidationError, match="field 'program.ref'"):
        flow("marketo", "c", {"program": {"ref": "$.answers[?("}})


def test_quota_wait_pauses_the_shard_without_counting_attempts_and_retry_resumes() -> None:
    s = ShardState()
    ev = platform_event("Q1")
    s.add([ev], 0.0)
    batch = s.take_batch(0.0, 10)
    s.settle(
        batch,
        [
            EventOutcome(
                event_id=ev.id,
                record_key="Q1",
                outcome="retry",
                retry_after_s=3600,
                wait=True,
                detail="quota",
            )
        ],
        1.0,
        1,
    )
    assert not s.parked and s.paused(2.0) and s.take_batch(2.0, 10) == []
    assert s.explain("Q1")[-1].decision == "waiting"
    s.retry(None, "ops", "reset", 3.0)
    assert [e.id for e in s.take_batch(3.0, 10)] == [ev.id]


async def test_marketo_604_splits_the_batch_and_every_record_lands() -> None:
    with served(marketo.create_app()) as emu:
        async with httpx.AsyncClient() as http:
            body = {"success": False, "errors": [{"code": "604", "message": "Request timed out"}]}
            await http.post(
                emu.url + "/_sandbox/faults",
                json={"path": "/rest/v1/leads.json", "status": 200, "body": body, "times": 1},
            )
            pool = ConnectionPool()
            c = connection("marketo", emu.url)
            f = flow("marketo", c.name, {"program": None, "campaign": None})
            outs = await deliver_batch(pool, f, c, [platform_event(f"S{i}") for i in range(6)])
            await pool.aclose()
            st = (await http.get(emu.url + "/_sandbox/state")).json()
    assert [o.outcome for o in outs] == ["delivered"] * 6
    assert len(st["leads"]) == 6


async def test_two_registrations_with_one_email_go_in_separate_calls() -> None:
    with served(hubspot.create_app()) as emu:
        pool = ConnectionPool()
        c = connection("hubspot", emu.url)
        f = flow("hubspot", c.name)
        outs = await deliver_batch(
            pool,
            f,
            c,
            [platform_event("A1", email="same@example.com"), platform_event("A2", email="same@example.com")],
        )
        await pool.aclose()
    assert [(o.outcome, o.action) for o in outs] == [("delivered", "created"), ("delivered", "updated")]
    assert outs[0].vendor_id == outs[1].vendor_id


@pytest.mark.parametrize("vendor", ["marketo", "hubspot", "salesforce", "eloqua"])
def test_native_settings_cross_temporal_as_written(vendor: str) -> None:
    # Sources mean what was set (`value: null` is a constant): a dump must read back the same.
    f = flow(vendor, "c")
    again = FlowDefinition.model_validate_json(f.model_dump_json())
    assert again == f
    assert again.model_dump_json() == f.model_dump_json()


def test_native_body_is_the_mapping_fields_plus_the_steps_values() -> None:
    branch = {
        "when": {"subject": "attendee_type", "op": "is", "value": "Staff"},
        "fields": {"firstName": {"value": "Staff"}},
    }
    f = flow(
        "marketo",
        "c",
        {
            "mapping": {
                "fields": {
                    "email": {"path": "$.record.profile.email", "transforms": ["upper"]},
                    "firstName": "$.record.profile.firstName",
                    "phone": "$.record.profile.phone",  # not in the record: not sent
                    "title": "$.answers.TITLE",  # a question not answered: null, not sent
                },
                "branches": [branch],
            }
        },
    )
    ev = platform_event("R1", 0, "Cancelled", TITLE=None)
    ev.record["tags"] = {"attendeeType": [{"name": "Staff"}]}
    current = registration_of(ev.record, ev.event_code)
    body = render(f, ev, current, current)
    assert body["fields"] == {"email": "R1@EXAMPLE.COM", "firstName": "Staff", "title": None}
    assert body["steps"] == {"program.ref": "1001", "program.status": "No Show", "campaign.ref": "2001"}
    item = DeliveryItem(ev.id, "R1", "k", body)
    assert fields_of(item) == {"email": "R1@EXAMPLE.COM", "firstName": "Staff"}
    assert value_of(item, "program.status") == "No Show" and value_of(item, "nothing") is None


def test_explain_words_name_the_vendor_id_action_and_a_quota_wait() -> None:
    base = {"status": 200, "rule": "activate_for: none (every record)", "by": ""}
    said = describe(
        {**base, "decision": "delivered", "action": "created", "vendor_id": "17", "detail": "lead 17"}
    )
    assert said.endswith("delivered: HTTP 200 [created, id 17] lead 17")
    waiting = describe({**base, "decision": "waiting", "detail": "Marketo daily API quota reached"})
    assert waiting.startswith("waiting for the destination's quota reset") and "quota reached" in waiting
