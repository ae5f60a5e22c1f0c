"""Library-level tests of the vendor adapters against the emulators over loopback (no Temporal)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from pydantic import ValidationError

from eventsync.destinations.common import seconds_until_midnight, waves
from eventsync.http import ConnectionPool
from eventsync.signal.delivery import deliver_batch
from eventsync.signal.ordering import EventOutcome, ShardState
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
    with pytest.raises(ValidationError, match="lookup_field 'externalKey' must be one of the mapped"):
        flow("marketo", "c", {"lookup_field": "externalKey"})
    with pytest.raises(ValidationError, match="exactly one of 'id'"):
        flow("marketo", "c", {"campaign": {"id": "1", "from": "$.x"}})


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
