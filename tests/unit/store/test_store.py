"""The event store on both engines: append and dedupe, per-record heads, settlement, parking,
operators' retry and discard, explain, counts and pruning."""

from __future__ import annotations

import json

from eventsync.flows.ordering import EventOutcome
from eventsync.flows.settle import RetryPolicy, settle
from eventsync.store import EventStore, NewEvent

POLICY = RetryPolicy(retry_window_s=3600)


def ev(record: str, n: int, flow: str = "f", shard: int = 0, sequence: int = 0) -> NewEvent:
    body = json.dumps({"id": f"{record}-{n}", "record": record, "n": n}).encode()
    return NewEvent(flow, shard, f"{record}-{n}", record, sequence or n + 1, body)


def outcomes(batch: list, kind: str, **kw: object) -> list[EventOutcome]:
    return [EventOutcome(event_id=e.event_id, record_key=e.record_key, outcome=kind, **kw) for e in batch]  # type: ignore[arg-type]


def apply(store: EventStore, batch: list, outs: list[EventOutcome], now: float, failures: int = 0):  # type: ignore[no-untyped-def]
    states = store.retry_states("f", 0, {e.record_key for e in batch})
    v = settle("f", [(e, "registration.updated") for e in batch], outs, states, now, POLICY, failures)
    store.settle("f", 0, v.settlement, now)
    return v


def test_append_dedupes_by_flow_and_event_id(store: EventStore) -> None:
    assert store.append([ev("A", 0), ev("A", 1)], now=100) == 2
    assert store.append([ev("A", 1), ev("B", 0)], now=101) == 1  # a retried webhook adds nothing
    assert store.append([ev("A", 1, flow="g")], now=101) == 1  # another flow keeps its own copy
    assert store.pending("f") == 3
    counts = {(n, r): c for _, n, r, c in store.counts("f", 0)}
    assert counts[("received", "")] == 3 and counts[("duplicates", "")] == 1


def test_ready_hands_out_one_event_per_record_in_arrival_order(store: EventStore) -> None:
    store.append([ev("A", 0), ev("A", 1), ev("B", 0), ev("C", 0), ev("B", 1)], now=100)
    heads = store.ready("f", 0, now=100, limit=10)
    assert [(e.record_key, e.event_id) for e in heads] == [("A", "A-0"), ("B", "B-0"), ("C", "C-0")]
    assert [e.record_key for e in store.ready("f", 0, now=100, limit=2)] == ["A", "B"]
    # records already out are skipped: the next one comes instead
    assert [e.record_key for e in store.ready("f", 0, now=100, limit=10, busy={"A", "B"})] == ["C"]
    # a late event with a lower per-record sequence goes first for its record
    store.append([NewEvent("f", 0, "D-late", "D", 5, b"{}"), NewEvent("f", 0, "D-early", "D", 2, b"{}")], now=101)
    assert next(e for e in store.ready("f", 0, now=101, limit=10) if e.record_key == "D").event_id == "D-early"


def test_delivered_events_settle_and_the_next_of_each_record_follows(store: EventStore) -> None:
    store.append([ev("A", 0), ev("A", 1), ev("B", 0)], now=100)
    batch = store.ready("f", 0, now=100, limit=10)
    v = apply(store, batch, outcomes(batch, "delivered", status=200), now=101)
    assert v.delivered == 2 and not v.destination_down
    assert [e.event_id for e in store.ready("f", 0, now=101, limit=10)] == ["A-1"]
    assert store.low_watermark("f", 0) == 1  # A-0 and B-0 (seq 1, 3) settled, A-1 (seq 2) not
    assert [d.decision for d in store.decisions("f", "A")] == ["delivered", "queued"]


def test_a_rejected_record_parks_its_later_events_wait_retry_and_discard(store: EventStore) -> None:
    store.append([ev("P", 0), ev("P", 1), ev("P", 2), ev("OK", 0)], now=100)
    batch = store.ready("f", 0, now=100, limit=10)
    outs = outcomes([b for b in batch if b.record_key == "P"], "rejected", status=422, detail="bad email")
    outs += outcomes([b for b in batch if b.record_key == "OK"], "delivered")
    v = apply(store, batch, outs, now=101)
    assert v.parked == ["P"]
    assert store.ready("f", 0, now=102, limit=10) == []  # held behind the parked event
    [p] = store.parked("f")
    assert (p.record_key, p.event_id, p.reason, p.held) == ("P", "P-0", "bad email", 2)
    story = [d.decision for d in store.decisions("f", "P")]
    assert story == ["parked", "held", "held"]
    assert store.retry("f", 0, "P", "alice", "fixed", now=103) == ["P"]
    assert [e.event_id for e in store.ready("f", 0, now=103, limit=10)] == ["P-0"]
    assert store.parked("f") == []
    # park again, then discard: the parked event and those held behind it are dropped, with who and why
    batch = store.ready("f", 0, now=104, limit=10)
    apply(store, batch, outcomes(batch, "rejected", detail="still bad"), now=104)
    assert store.discard("f", 0, None, "bob", "test registrant", now=105) == ["P"]
    assert store.pending("f") == 0 and store.parked("f") == []
    gone = [d for d in store.decisions("f", "P") if d.decision == "discarded"]
    assert [d.event_id for d in gone] == ["P-0", "P-1", "P-2"] and {d.by for d in gone} == {"bob"}


def test_a_destination_down_pauses_the_shard_and_never_parks_inside_the_window(store: EventStore) -> None:
    store.append([ev("A", 0), ev("B", 0)], now=100)
    now, failures = 100.0, 0
    for _ in range(20):
        batch = store.ready("f", 0, now=now, limit=10)
        assert [e.record_key for e in batch] == ["A", "B"]  # the same heads, in order, every time
        v = apply(store, batch, outcomes(batch, "retry", status=503, detail="down"), now=now, failures=failures)
        assert v.destination_down and 0 < v.pause_s <= 30 and v.parked == []
        failures += 1
        now += v.pause_s
    batch = store.ready("f", 0, now=now, limit=10)
    apply(store, batch, outcomes(batch, "delivered"), now=now)
    assert store.pending("f") == 0 and store.parked("f") == []
    # past the retry window, a record that keeps failing parks
    store.append([ev("C", 0)], now=now)
    batch = store.ready("f", 0, now=now, limit=10)
    apply(store, batch, outcomes(batch, "retry", detail="down"), now=now)
    batch = store.ready("f", 0, now=now + 3601, limit=10)
    v = apply(store, batch, outcomes(batch, "retry", detail="down"), now=now + 3601)
    assert v.parked == ["C"] and "gave up after 2 attempts" in store.parked("f")[0].reason


def test_one_failing_record_backs_off_alone(store: EventStore) -> None:
    store.append([ev("A", 0), ev("B", 0), ev("B", 1)], now=100)
    batch = store.ready("f", 0, now=100, limit=10)
    outs = outcomes([b for b in batch if b.record_key == "A"], "retry", status=500, retry_after_s=10)
    outs += outcomes([b for b in batch if b.record_key == "B"], "delivered")
    v = apply(store, batch, outs, now=100)
    assert not v.destination_down and v.pause_s == 0
    assert [e.event_id for e in store.ready("f", 0, now=101, limit=10)] == ["B-1"]  # A waits
    assert store.next_wake("f", 0, now=101) == 110
    assert [e.event_id for e in store.ready("f", 0, now=110, limit=10)] == ["A-0", "B-1"]


def test_prune_forgets_settled_history_but_never_pending_events(store: EventStore) -> None:
    store.append([ev("A", 0), ev("B", 0)], now=100)
    batch = [e for e in store.ready("f", 0, now=100, limit=10) if e.record_key == "A"]
    apply(store, batch, outcomes(batch, "delivered"), now=100)
    assert store.prune(older_than=200) == 1
    assert store.pending("f") == 1 and store.decisions("f", "A") == []


def test_a_stopped_store_is_unavailable_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    import pytest

    from eventsync.store import StoreUnavailable

    store = EventStore("sqlite:///" + str(tmp_path / "ro" / "events.sqlite3"))
    store.append([ev("A", 0)], now=1)
    store.close()
    os.chmod(tmp_path / "ro" / "events.sqlite3", 0o444)
    os.chmod(tmp_path / "ro", 0o555)
    try:
        ro = EventStore("sqlite:///" + str(tmp_path / "ro" / "events.sqlite3"))
        if os.geteuid() == 0:
            pytest.skip("root writes read-only files; the integration test locks the store instead")
        with pytest.raises(StoreUnavailable):
            ro.append([ev("B", 0)], now=2)
    finally:
        os.chmod(tmp_path / "ro", 0o755)


def test_decision_details_and_park_reasons_are_sealed_at_rest(store: EventStore) -> None:
    """A vendor's answer quotes the registrant: with payload keys it is kept sealed, like the
    event body, and read back in clear only through a store that holds the keys."""
    from eventsync.keyring import parse_keys

    store.keyring = parse_keys("k1:" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU=")
    email = "ada.lovelace@example.org"
    store.append([ev("P", 0), ev("OK", 0)], now=100)
    batch = store.ready("f", 0, now=100, limit=10)
    outs = outcomes([b for b in batch if b.record_key == "P"], "rejected", status=422, detail=f"{email} is invalid")
    outs += outcomes([b for b in batch if b.record_key == "OK"], "delivered", detail=f"updated {email}")
    apply(store, batch, outs, now=101)
    store.retry("f", 0, "P", "alice", f"asked by {email}", now=102)
    batch = store.ready("f", 0, now=103, limit=10)
    apply(store, batch, outcomes(batch, "rejected", status=422, detail=f"{email} is invalid"), now=103)

    with store._tx(write=False) as cur:
        cur.execute("SELECT detail FROM decisions")
        raw = [r[0] for r in cur.fetchall()]
        cur.execute("SELECT parked_reason FROM records WHERE parked_reason IS NOT NULL")
        raw += [r[0] for r in cur.fetchall()]
    assert raw and not any(email in r for r in raw), raw

    assert store.parked("f")[0].reason == f"{email} is invalid"
    details = {d.decision: d.detail for d in store.decisions("f", "P")}
    assert details["retried"] == f"asked by {email}" and details["parked"] == f"{email} is invalid"

    store.keyring = None  # a reader without the keys sees that there is a sealed text, not garbage
    assert store.parked("f")[0].reason.startswith("(sealed: set EVENTSYNC_CODEC_KEYS")
