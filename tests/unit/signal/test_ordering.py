from __future__ import annotations

from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import EventOutcome, ShardState


def ev(rec: str, n: int) -> PlatformEvent:
    return PlatformEvent(id=f"{rec}-{n}", type="registration.updated", account="A", record_key=rec)


def ok(e: PlatformEvent) -> EventOutcome:
    return EventOutcome(event_id=e.id, record_key=e.record_key, outcome="delivered", status=200)


def test_only_heads_go_and_nothing_overtakes() -> None:
    s = ShardState()
    s.add([ev("A", 0), ev("A", 1), ev("B", 0)], 0)
    b1 = s.take_batch(0, 10)
    assert [e.id for e in b1] == ["A-0", "B-0"]
    assert s.take_batch(0, 10) == []  # A is in flight: A-1 waits
    s.settle(b1, [ok(e) for e in b1], 1, 5)
    assert [e.id for e in s.take_batch(1, 10)] == ["A-1"]


def test_duplicates_dropped_and_noted() -> None:
    s = ShardState()
    assert s.add([ev("A", 0), ev("A", 0)], 0) == 1
    assert s.counters.duplicates == 1
    assert [d.decision for d in s.explain("A")] == ["duplicate"]


def test_retry_backs_off_then_parks_after_max_attempts() -> None:
    s = ShardState()
    s.add([ev("A", 0)], 0)
    t = 0.0
    for attempt in range(3):
        b = s.take_batch(t, 10)
        assert len(b) == 1, attempt
        s.settle(b, [EventOutcome(event_id="A-0", record_key="A", outcome="retry", detail="503")], t, 3)
        wake = s.next_wake()
        t = wake if wake is not None else t
    assert "A" in s.parked and "gave up after 3 attempts" in s.parked["A"].reason


def test_park_hold_retry_discard() -> None:
    s = ShardState()
    s.add([ev("A", 0)], 0)
    b = s.take_batch(0, 10)
    s.settle(
        b, [EventOutcome(event_id="A-0", record_key="A", outcome="rejected", status=422, detail="bad")], 0, 5
    )
    s.add([ev("A", 1)], 1)
    assert s.take_batch(2, 10) == []
    assert s.explain("A")[-1].decision == "held"
    s.retry("A", "alice", "fixed", 3)
    assert [e.id for e in s.take_batch(3, 10)] == ["A-0"]
    s2 = ShardState()
    s2.add([ev("B", 0), ev("B", 1)], 0)
    b = s2.take_batch(0, 10)
    s2.settle(b, [EventOutcome(event_id="B-0", record_key="B", outcome="rejected")], 0, 5)
    assert s2.discard(None, "bob", "spam", 1) == ["B"]
    assert s2.idle() and s2.counters.discarded == 2
    assert {(d.by, d.detail) for d in s2.explain("B") if d.decision == "discarded"} == {("bob", "spam")}


def test_state_survives_continue_as_new_round_trip() -> None:
    s = ShardState()
    s.add([ev("A", 0), ev("A", 1)], 0)
    s2 = ShardState.model_validate_json(s.model_dump_json())
    assert s2.add([ev("A", 1)], 1) == 0  # dedupe memory carried
    assert [e.id for e in s2.take_batch(1, 10)] == ["A-0"]


def test_a_late_event_goes_before_later_sequences_but_not_before_the_head_in_flight() -> None:
    from eventsync.flows.events import PlatformEvent
    from eventsync.flows.ordering import ShardState

    def e(seq: int) -> PlatformEvent:
        return PlatformEvent(
            id=f"e{seq}", type="registration.updated", account="A", record_key="R", sequence=seq
        )

    st = ShardState()
    st.add([e(2), e(5)], 0.0)
    assert [x.sequence for x in st.take_batch(0.0, 10)] == [2]  # 2 is in flight
    st.add([e(1), e(4), e(3)], 0.0)  # 1 came too late to go first; 3 and 4 are put in order
    assert [x.sequence for x in st.queues["R"]] == [2, 1, 3, 4, 5]
