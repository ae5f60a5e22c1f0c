"""One shard's delivery loop: read the next events from the store, deliver, write outcomes.

The loop runs inside one activity for a bounded time (`budget_s`), so Temporal sees one activity
per many batches, not a message per event. It keeps per-record order by construction: the store
hands out at most one event per record, never one of a record that is parked, backing off or
already in flight here, and a record's next event is read only after the previous one settled.
It returns early when the workflow has something to do: a record parked (its search attributes),
or the destination is down or out of quota (the workflow sleeps on a durable timer).

A delivery that went out but whose outcome was not written (the worker died in between) goes out
again with the same Idempotency-Key: at-least-once, recognisably.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import EventOutcome
from eventsync.flows.settle import RetryPolicy, Verdict, settle
from eventsync.keyring import Keyring
from eventsync.store import EventStore, StoredEvent
from eventsync.store.payload import unseal
from eventsync.store.watch import StoreWatcher, in_thread

# (events, record -> hash of the body last delivered) -> one outcome per event
Deliver = Callable[[list[PlatformEvent], dict[str, str]], Awaitable[list[EventOutcome]]]
HEARTBEAT_S = 1.0


@dataclass(frozen=True)
class PumpConfig:
    batch_limit: int
    policy: RetryPolicy
    budget_s: float = 30.0  # return to the workflow at least this often
    idle_return_s: float = 30.0  # with nothing to do for this long, return too
    in_flight: int = 2  # batches out at once: while one is out, the next one fills


@dataclass
class PumpReport:
    batches: int = 0
    delivered: int = 0
    skipped: int = 0
    retried: int = 0
    parked: list[str] = field(default_factory=list)
    pause_s: float = 0.0
    pause_reason: str = ""
    pause_kind: str = ""
    shard_failures: int = 0  # consecutive batches that found the destination down
    offset: int = 0
    idle: bool = False


def decode(ev: StoredEvent, keyring: Keyring | None) -> PlatformEvent:
    return PlatformEvent.model_validate_json(unseal(ev.payload, keyring))


async def run_pump(
    store: EventStore,
    watcher: StoreWatcher,
    deliver: Deliver,
    flow: str,
    shard: int,
    config: PumpConfig,
    *,
    keyring: Keyring | None = None,
    shard_failures: int = 0,
    heartbeat: Callable[[int], None] = lambda _offset: None,
    clock: Callable[[], float] = time.time,
    delivered_after: Callable[[float], None] = lambda _seconds: None,
) -> PumpReport:
    """`delivered_after` hears, for each event delivered, the seconds from its receipt (the
    store's commit) to the destination's answer: the delivery latency metric."""
    report = PumpReport(shard_failures=shard_failures)
    started = clock()
    last_work = started
    busy: set[str] = set()
    tasks: dict[asyncio.Task[Verdict], list[StoredEvent]] = {}
    stop = False  # something for the workflow: finish what is out, then return
    seen = await in_thread(store.last_seq)
    backing_off = True  # unknown at start: ask the store once
    last_beat = 0.0

    async def one(batch: list[StoredEvent]) -> Verdict:
        events: list[tuple[StoredEvent, str]] = []
        platform_events: list[PlatformEvent] = []
        outcomes: list[EventOutcome] = []
        for stored in batch:
            try:
                pe = decode(stored, keyring)
            except Exception as err:  # noqa: BLE001 - a row we cannot read parks, it never wedges
                outcomes.append(
                    EventOutcome(
                        event_id=stored.event_id, record_key=stored.record_key, outcome="rejected",
                        detail=f"stored event cannot be read: {type(err).__name__}",
                    )
                )
                events.append((stored, ""))
                continue
            events.append((stored, pe.type))
            platform_events.append(pe)
        keys = {s.record_key for s, _ in events}
        if platform_events:
            last = await in_thread(store.last_hashes, flow, shard, keys)
            outcomes += await deliver(platform_events, last)
            answered = clock()
            received = {s.event_id: s.received_at for s, _ in events}
            for o in outcomes:
                if o.outcome == "delivered" and o.event_id in received:
                    delivered_after(max(0.0, answered - received[o.event_id]))
        states = await in_thread(store.retry_states, flow, shard, keys)
        verdict = settle(flow, events, outcomes, states, clock(), config.policy, report.shard_failures)
        await in_thread(store.settle, flow, shard, verdict.settlement)
        return verdict

    while True:
        now = clock()
        if now - last_beat >= HEARTBEAT_S:
            heartbeat(report.offset)
            last_beat = now
        out_of_time = now - started >= config.budget_s
        if not stop and not out_of_time and len(tasks) < config.in_flight:
            # What the watcher knew before this read: anything committed after it moves it past.
            seen = max(seen, watcher.latest)
            batch = await in_thread(store.ready, flow, shard, now, config.batch_limit, busy)
            if batch:
                busy.update(e.record_key for e in batch)
                tasks[asyncio.create_task(one(batch))] = batch
                last_work = now
                continue
        if tasks:
            done, _ = await asyncio.wait(set(tasks), timeout=HEARTBEAT_S, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                batch = tasks.pop(task)
                busy.difference_update(e.record_key for e in batch)
                v = task.result()
                report.batches += 1
                report.delivered += v.delivered
                report.skipped += v.skipped
                report.retried += len(v.settlement.retry)
                report.parked += v.parked
                if v.destination_down:
                    report.shard_failures += 1
                elif v.delivered or v.skipped:
                    report.shard_failures = 0
                if v.pause_s > report.pause_s:
                    report.pause_s, report.pause_reason, report.pause_kind = v.pause_s, v.pause_reason, v.pause_kind
                if v.parked or v.pause_s:
                    stop = True
                if any(r.not_before for r in v.settlement.retry.values()):
                    backing_off = True
                last_work = clock()
            continue
        if stop or out_of_time:
            break
        if clock() - last_work >= config.idle_return_s:
            report.idle = True
            break
        wake = await in_thread(store.next_wake, flow, shard, clock()) if backing_off else None
        backing_off = wake is not None
        timeout = HEARTBEAT_S if wake is None else max(0.001, min(HEARTBEAT_S, wake - clock()))
        seen = await watcher.wait(seen, timeout)
    report.offset = await in_thread(store.low_watermark, flow, shard)
    heartbeat(report.offset)
    return report
