"""Counts over time kept in a shard's state: per-minute buckets, skips by reason, bounded."""

from __future__ import annotations

from client.insights import slotted
from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import Counters, EventOutcome, ShardState
from eventsync.flows.timeline import (
    MAX_BUCKETS,
    MAX_REASONS,
    OTHER_REASON,
    Bucket,
    Timeline,
    count_reason,
    merge,
)


def _ev(i: int, record: str) -> PlatformEvent:
    return PlatformEvent(id=f"e{i}", type="registration.created", account="A", record_key=record)


def test_shard_counts_land_in_the_minute_they_happen() -> None:
    st = ShardState()
    evs = [_ev(i, f"r{i}") for i in range(4)]
    st.add(evs, now=120.5)
    st.add([evs[0]], now=121.0)  # a duplicate
    batch = st.take_batch(now=185.0, limit=10)
    outcomes = [
        EventOutcome(event_id="e0", record_key="r0", outcome="delivered"),
        EventOutcome(event_id="e1", record_key="r1", outcome="skipped", rule="filters: country is 'FR'"),
        EventOutcome(event_id="e2", record_key="r2", outcome="skipped", rule="filters: country is 'FR'"),
        EventOutcome(event_id="e3", record_key="r3", outcome="rejected", detail="HTTP 422"),
    ]
    st.settle(batch, outcomes, now=185.0, max_attempts=3)
    b = st.timeline.buckets
    assert [x.t for x in b] == [120, 180]
    assert (b[0].received, b[0].duplicates, b[0].delivered) == (5, 1, 0)
    assert (b[1].delivered, b[1].activated, b[1].skipped, b[1].parked) == (1, 1, 2, 1)
    assert b[1].skipped_by == {"filters: country is 'FR'": 2}
    assert st.counters.skipped_by == {"filters: country is 'FR'": 2}
    # the state (timeline included) survives the continue-as-new round trip
    again = ShardState.model_validate_json(st.model_dump_json())
    again.discard("r3", "bob", "test", now=300.0)
    assert again.timeline.buckets[-1].t == 300 and again.timeline.buckets[-1].discarded == 1
    assert again.timeline.buckets[-1].received == 0  # only the change since the last observation


def test_buckets_and_reasons_are_bounded() -> None:
    tl = Timeline()
    c = Counters()
    for minute in range(MAX_BUCKETS + 20):
        c.received += 1
        tl.observe(minute * 60.0, c, {})
    assert len(tl.buckets) == MAX_BUCKETS and tl.buckets[0].t == 20 * 60
    reasons: dict[str, int] = {}
    for i in range(MAX_REASONS + 5):
        count_reason(reasons, f"rule {i}")
    count_reason(reasons, "rule 0")
    assert len(reasons) == MAX_REASONS + 1 and reasons[OTHER_REASON] == 5 and reasons["rule 0"] == 2


def test_merge_sums_shards_and_slots_cover_the_window() -> None:
    a = [Bucket(t=0, received=1, skipped_by={"x": 1}), Bucket(t=60, delivered=2)]
    b = [Bucket(t=60, delivered=3, skipped_by={"x": 2}), Bucket(t=600, parked=1)]
    m = merge([a, b], since=30)
    assert [(x.t, x.received, x.delivered, x.parked) for x in m] == [
        (0, 1, 0, 0),
        (60, 0, 5, 0),
        (600, 0, 0, 1),
    ]
    assert merge([a, b], since=61)[0].t == 60  # a bucket overlapping the window's start is kept
    assert m[1].skipped_by == {"x": 2}
    starts, rows = slotted(m, since=0, now=3600, max_slots=6)
    assert len(starts) == 7 and starts[1] - starts[0] == 600
    assert [r["delivered"] for r in rows][:2] == [5, 0] and rows[1]["parked"] == 1
