"""From a delivered batch's outcomes to what the event store records (pure, deterministic).

One retry policy for every destination: the HTTP core classifies an answer (retry or reject),
adapters report one outcome per event, and this module decides what happens next:

- delivered / skipped: the event is settled; the record's retry state ends.
- rejected (a permanent answer): the record parks at once; its later events wait.
- retry, and the whole batch failed that way: the destination is down, not the records. The
  shard pauses (capped exponential backoff, Retry-After honoured) and tries the same heads again;
  attempts still count, so a record that fails for `retry_window_s` parks even then.
- retry for some records while others went through: those records back off on their own.
- wait (an account out of quota): the shard pauses until the reset; no attempt is counted.

Times are plain floats passed in; nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from eventsync.flows.ordering import EventOutcome
from eventsync.store import Decision, ParkedRecord, RetryState, Settlement, StoredEvent

BACKOFF_INITIAL_S = 1.0
RECORD_BACKOFF_MAX_S = 300.0  # one record failing alone: at most every 5 minutes
SHARD_PAUSE_MAX_S = 30.0  # a destination that is down is probed at least this often
RETRY_AFTER_MAX_S = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    retry_window_s: float  # a record failing retryably this long parks
    max_attempts: int | None = None  # also park after this many failed attempts (None: window only)


@dataclass
class Verdict:
    settlement: Settlement
    pause_s: float = 0.0  # the shard waits this long before its next batch
    pause_reason: str = ""
    pause_kind: str = ""  # quota (an account out of its allowance) | outage (destination down)
    destination_down: bool = False  # every event of the batch failed retryably
    delivered: int = 0
    skipped: int = 0
    parked: list[str] = field(default_factory=list)


def backoff(attempt: int, cap: float) -> float:
    return float(min(cap, BACKOFF_INITIAL_S * 2 ** max(0, attempt - 1)))


def settle(
    flow: str,
    events: list[tuple[StoredEvent, str]],  # (stored event, event type)
    outcomes: list[EventOutcome],
    states: dict[str, RetryState],
    now: float,
    policy: RetryPolicy,
    shard_failures: int = 0,  # consecutive batches of this shard that found the destination down
) -> Verdict:
    s = Settlement()
    v = Verdict(s)
    by_id = {o.event_id: o for o in outcomes}
    failed = [by_id.get(e.event_id) for e, _ in events]
    tried = [o for o in failed if o is None or not o.wait]
    v.destination_down = bool(tried) and all(o is None or o.outcome == "retry" for o in tried)
    for ev, etype in events:
        r = ev.record_key
        o = by_id.get(ev.event_id) or EventOutcome(
            event_id=ev.event_id, record_key=r, outcome="retry", detail="no outcome returned"
        )
        d = Decision(
            at=now, flow=flow, record_key=r, event_id=ev.event_id, event_type=etype, decision="delivered",
            rule=o.rule, status=o.status, detail=o.detail, vendor_id=o.vendor_id, action=o.action,
        )
        if o.outcome == "retry" and o.wait:
            pause = min(o.retry_after_s or SHARD_PAUSE_MAX_S, RETRY_AFTER_MAX_S)
            if pause > v.pause_s:
                v.pause_s, v.pause_reason, v.pause_kind = pause, o.detail, "quota"
            d.decision = "waiting"
        elif o.outcome in ("delivered", "skipped"):
            s.settled.append((ev.seq, o.outcome))
            if r in states:
                s.cleared.add(r)
            if o.outcome == "delivered":
                if o.body_hash:
                    s.hashes[r] = o.body_hash
                v.delivered += 1
                s.counts["activated"] = s.counts.get("activated", 0) + 1
                s.counts["delivered"] = s.counts.get("delivered", 0) + 1
            else:
                v.skipped += 1
                d.decision = "skipped"
                s.counts["skipped"] = s.counts.get("skipped", 0) + 1
                name = o.rule or "(unnamed rule)"
                s.skipped_by[name] = s.skipped_by.get(name, 0) + 1
        else:
            prior = states.get(r)
            n = (prior.attempts if prior else 0) + 1
            first = prior.first_failed_at if prior and prior.first_failed_at else now
            exhausted = o.outcome == "rejected" or now - first >= policy.retry_window_s or (
                policy.max_attempts is not None and n >= policy.max_attempts
            )
            if exhausted:
                why = o.detail if o.outcome == "rejected" else f"gave up after {n} attempts: {o.detail}"
                s.parked[r] = ParkedRecord(flow, ev.shard, r, ev.event_id, why, n, now)
                s.counts["parked"] = s.counts.get("parked", 0) + 1
                v.parked.append(r)
                d.decision, d.detail = "parked", why
            else:
                if v.destination_down:
                    delay = backoff(shard_failures + 1, SHARD_PAUSE_MAX_S)
                    not_before = 0.0  # the shard's pause covers it: the same heads go first after it
                else:
                    delay = backoff(n, RECORD_BACKOFF_MAX_S)
                    not_before = now
                if o.retry_after_s is not None:
                    delay = max(delay, min(o.retry_after_s, RETRY_AFTER_MAX_S))
                s.retry[r] = RetryState(n, first, not_before + delay if not_before else 0.0)
                if v.destination_down and delay > v.pause_s:
                    v.pause_s, v.pause_reason, v.pause_kind = delay, o.detail, "outage"
                d.decision = "retrying"
                d.detail = f"attempt {n}, next in {delay:.0f} s: {o.detail}"
        s.decisions.append(d)
    return v
