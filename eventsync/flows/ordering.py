"""One shard's durable state and the rules that keep per-record order (pure, deterministic).

The flow workflow owns a `ShardState`; it feeds arrivals in (`add`), takes the next batch
(`take_batch`: at most the head event of each record, so no event overtakes an earlier one of
its record), applies the delivery outcomes (`settle`), and handles operator actions (`retry`,
`discard`). Times are plain floats (workflow time), passed in: nothing here reads a clock.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr

from eventsync.flows.events import PlatformEvent
from eventsync.flows.timeline import Counters, Timeline, count_reason

Outcome = Literal["delivered", "skipped", "retry", "rejected"]
# These bound the state a shard carries across continue-as-new (one payload, 2 MB hard limit):
# worst case ~300 x 10 x 300 B of decisions + 10,000 ids x ~40 B, well under 2 MB with the queue.
MAX_DECISIONS_PER_RECORD = 10
MAX_RECORDS_EXPLAINED = 300
MAX_SEEN_IDS = 10_000
MAX_DETAIL_CHARS = 300
BACKOFF_INITIAL_S = 1.0
BACKOFF_MAX_S = 60.0


class EventOutcome(BaseModel):
    """What the delivery activity says about one event."""

    event_id: str
    record_key: str
    outcome: Outcome
    rule: str = ""  # for skipped: the rule that decided
    status: int | None = None  # the destination's HTTP status, when there was an answer
    detail: str = ""  # the destination's answer or error, secrets never included
    retry_after_s: float | None = None
    vendor_id: str | None = None  # the destination's id for the record (explain shows it)
    action: str | None = None  # created / updated / skipped, as the destination said
    wait: bool = False  # account out of quota: pause the shard until retry_after_s (no attempt counted)
    body_hash: str | None = None  # delivered: the hash of the body the destination now has


class DecisionEntry(BaseModel):
    at: float
    event_id: str
    event_type: str
    decision: Literal[
        "delivered", "skipped", "retrying", "parked", "held", "retried", "discarded", "duplicate", "waiting"
    ]
    rule: str = ""
    status: int | None = None
    detail: str = ""
    by: str = ""
    vendor_id: str | None = None
    action: str | None = None


class Parked(BaseModel):
    since: float
    event_id: str
    reason: str
    attempts: int


class ShardState(BaseModel):
    queues: dict[str, list[PlatformEvent]] = Field(default_factory=dict)
    seen: list[str] = Field(default_factory=list)  # event ids, oldest first (bounded)
    parked: dict[str, Parked] = Field(default_factory=dict)
    attempts: dict[str, int] = Field(default_factory=dict)  # record -> failed attempts of its head
    not_before: dict[str, float] = Field(default_factory=dict)  # record -> earliest next try
    decisions: dict[str, list[DecisionEntry]] = Field(default_factory=dict)
    counters: Counters = Field(default_factory=Counters)
    timeline: Timeline = Field(default_factory=Timeline)  # the counters per minute (dashboard)
    paused_until: float = 0.0  # account out of quota: nothing is sent before this (workflow time)
    paused_reason: str = ""
    _seen_set: set[str] = PrivateAttr(default_factory=set)
    _in_flight: set[str] = PrivateAttr(default_factory=set)

    def model_post_init(self, _ctx: object) -> None:
        self._seen_set = set(self.seen)

    # ---- arrivals -------------------------------------------------------------------------------

    def add(self, events: list[PlatformEvent], now: float) -> int:
        """Queue new events behind earlier ones of their record; drop ids already seen."""
        accepted = 0
        for ev in events:
            self.counters.received += 1
            if ev.id in self._seen_set:
                self.counters.duplicates += 1
                self._note(
                    ev.record_key,
                    DecisionEntry(at=now, event_id=ev.id, event_type=ev.type, decision="duplicate"),
                )
                continue
            self._seen_set.add(ev.id)
            self.seen.append(ev.id)
            self._enqueue(ev)
            if ev.record_key in self.parked:
                self._note(
                    ev.record_key,
                    DecisionEntry(
                        at=now,
                        event_id=ev.id,
                        event_type=ev.type,
                        decision="held",
                        detail="held behind the parked event " + self.parked[ev.record_key].event_id,
                    ),
                )
            accepted += 1
        if len(self.seen) > MAX_SEEN_IDS:
            # The window is far wider than any platform retry horizon; older ids cannot return.
            drop = len(self.seen) - MAX_SEEN_IDS
            for old in self.seen[:drop]:
                self._seen_set.discard(old)
            del self.seen[:drop]
        self._observe(now)
        return accepted

    def _enqueue(self, ev: PlatformEvent) -> None:
        # The platform retries a failed delivery without holding back later ones, so a record's
        # events can arrive out of order; they carry a per-record `sequence`. A late one goes before
        # the queued events with higher sequences, but never before a head already being tried.
        q = self.queues.setdefault(ev.record_key, [])
        pos = len(q)
        if ev.sequence:
            r = ev.record_key
            floor = 1 if (r in self._in_flight or r in self.parked or r in self.attempts) else 0
            while pos > floor and q[pos - 1].sequence > ev.sequence:
                pos -= 1
        q.insert(pos, ev)

    # ---- batches --------------------------------------------------------------------------------

    def paused(self, now: float) -> bool:
        return now < self.paused_until

    def ready(self, now: float) -> list[str]:
        if self.paused(now):
            return []
        return [
            r
            for r, q in self.queues.items()
            if q and r not in self.parked and r not in self._in_flight and self.not_before.get(r, 0.0) <= now
        ]

    def take_batch(self, now: float, limit: int) -> list[PlatformEvent]:
        """The head event of up to `limit` ready records (arrival order of records kept)."""
        batch: list[PlatformEvent] = []
        for r in self.ready(now)[:limit]:
            self._in_flight.add(r)
            batch.append(self.queues[r][0])
        return batch

    def next_wake(self) -> float | None:
        """When the earliest backed-off record becomes ready again (None: nothing waits on time)."""
        times = [t for r, t in self.not_before.items() if r in self.queues and r not in self.parked]
        if self.paused_until and self.queues:
            times.append(self.paused_until)
        return min(times) if times else None

    def settle(
        self, batch: list[PlatformEvent], outcomes: list[EventOutcome], now: float, max_attempts: int
    ) -> None:
        by_id = {o.event_id: o for o in outcomes}
        for ev in batch:
            r = ev.record_key
            self._in_flight.discard(r)
            o = by_id.get(ev.id) or EventOutcome(
                event_id=ev.id, record_key=r, outcome="retry", detail="no outcome returned"
            )
            entry = DecisionEntry(
                at=now,
                event_id=ev.id,
                event_type=ev.type,
                decision="delivered",
                rule=o.rule,
                status=o.status,
                detail=o.detail,
                vendor_id=o.vendor_id,
                action=o.action,
            )
            if o.outcome == "retry" and o.wait:
                # Not this record's fault: the whole shard waits for the quota reset.
                until = now + (o.retry_after_s or BACKOFF_MAX_S)
                if until > self.paused_until:
                    self.paused_until = until
                    self.paused_reason = o.detail
                entry.decision = "waiting"
                self._note(r, entry)
                continue
            if o.outcome in ("delivered", "skipped"):
                if o.outcome == "delivered":
                    self.counters.activated += 1
                    self.counters.delivered += 1
                else:
                    self.counters.skipped += 1
                    count_reason(self.counters.skipped_by, o.rule)
                    entry.decision = "skipped"
                self._pop(r)
            elif o.outcome == "retry" and self.attempts.get(r, 0) + 1 < max_attempts:
                n = self.attempts[r] = self.attempts.get(r, 0) + 1
                delay = min(BACKOFF_MAX_S, BACKOFF_INITIAL_S * 2 ** (n - 1))
                if o.retry_after_s is not None:
                    delay = max(delay, min(o.retry_after_s, BACKOFF_MAX_S * 5))
                self.not_before[r] = now + delay
                entry.decision = "retrying"
                entry.detail = f"attempt {n}, next in {delay:.0f} s: {o.detail}"
            else:
                n = self.attempts.get(r, 0) + 1
                why = o.detail if o.outcome == "rejected" else f"gave up after {n} attempts: {o.detail}"
                self.parked[r] = Parked(since=now, event_id=ev.id, reason=why, attempts=n)
                self.attempts.pop(r, None)
                self.not_before.pop(r, None)
                self.counters.parked += 1
                entry.decision = "parked"
                entry.detail = why
            self._note(r, entry)
        self._observe(now)

    def _pop(self, r: str) -> None:
        q = self.queues.get(r)
        if q:
            q.pop(0)
        if not q:
            self.queues.pop(r, None)
        self.attempts.pop(r, None)
        self.not_before.pop(r, None)

    # ---- operator actions -----------------------------------------------------------------------

    def _targets(self, record: str | None) -> list[str]:
        if record is None:
            return list(self.parked)
        return [record] if record in self.parked else []

    def retry(self, record: str | None, by: str, reason: str, now: float) -> list[str]:
        """Unpark: the parked event and those held behind it go out again, in order."""
        done = self._targets(record)
        if self.paused_until and record is None:
            # An operator who says "go" after a quota reset need not wait for our estimate of it.
            self.paused_until = 0.0
            self.paused_reason = ""
        for r in done:
            p = self.parked.pop(r)
            self._note(
                r,
                DecisionEntry(
                    at=now, event_id=p.event_id, event_type="", decision="retried", by=by, detail=reason
                ),
            )
        return done

    def discard(self, record: str | None, by: str, reason: str, now: float) -> list[str]:
        """Drop the parked event and everything held behind it, with who and why."""
        done = self._targets(record)
        for r in done:
            self.parked.pop(r)
            for ev in self.queues.pop(r, []):
                self.counters.discarded += 1
                self._note(
                    r,
                    DecisionEntry(
                        at=now, event_id=ev.id, event_type=ev.type, decision="discarded", by=by, detail=reason
                    ),
                )
            self.attempts.pop(r, None)
            self.not_before.pop(r, None)
        self._observe(now)
        return done

    # ---- reading --------------------------------------------------------------------------------

    def idle(self) -> bool:
        return not self.queues and not self.parked and not self._in_flight

    def pending(self) -> int:
        return sum(len(q) for q in self.queues.values())

    def explain(self, record: str) -> list[DecisionEntry]:
        return list(self.decisions.get(record, []))

    def _observe(self, now: float) -> None:
        self.timeline.observe(now, self.counters, self.counters.skipped_by)

    def _note(self, record: str, entry: DecisionEntry) -> None:
        entry.detail = entry.detail[:MAX_DETAIL_CHARS]
        entry.rule = entry.rule[:MAX_DETAIL_CHARS]
        log = self.decisions.pop(record, [])  # re-insert: most recently touched records last
        log.append(entry)
        del log[:-MAX_DECISIONS_PER_RECORD]
        self.decisions[record] = log
        while len(self.decisions) > MAX_RECORDS_EXPLAINED:
            # forget the least recently touched record that nobody is waiting on
            victim = next((k for k in self.decisions if k not in self.parked and k not in self.queues), None)
            if victim is None:
                break
            del self.decisions[victim]


__all__ = ["ShardState", "EventOutcome", "DecisionEntry", "Parked", "Counters"]
