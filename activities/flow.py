"""The Signal-flow activities: a shard's delivery loop and the operators' retry/discard, thin
adapters over eventsync.flows.pump and the event store. Inputs carry names only: the flow,
its connections and the store come from this worker's own definitions and settings."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity

from activities import context
from activities.connections import get_pool
from eventsync import telemetry
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import effective_limits
from eventsync.destinations.registry import adapter_for
from eventsync.flows.delivery import deliver_batch
from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import EventOutcome
from eventsync.flows.pump import PumpConfig, run_pump
from eventsync.flows.settle import RetryPolicy
from eventsync.keyring import keyring_from_env
from eventsync.store import open_store
from eventsync.store.watch import in_thread, watcher_for

MAX_PARKED_SHOWN = 100


class PumpInput(BaseModel):
    flow: str
    shard: int
    shard_failures: int = 0
    budget_s: float = 30.0


class ParkedInfo(BaseModel):
    record: str
    event_id: str
    reason: str
    attempts: int
    since: float
    held: int = 0


class PumpResult(BaseModel):
    batches: int = 0
    delivered: int = 0
    skipped: int = 0
    retried: int = 0
    newly_parked: list[str] = []
    pause_s: float = 0.0
    pause_reason: str = ""
    pause_kind: str = ""  # quota | outage
    shard_failures: int = 0
    offset: int = 0
    idle: bool = False
    parked: list[ParkedInfo] = []  # the shard's parked records (the first MAX_PARKED_SHOWN)
    parked_count: int = 0


class OperateInput(BaseModel):
    flow: str
    shard: int
    action: str  # retry | discard
    record: str | None = None  # None: every parked record of the shard
    by: str
    reason: str = ""


class OperateResult(BaseModel):
    records: list[str]
    parked: list[ParkedInfo] = []
    parked_count: int = 0


def policy_of(flow: FlowDefinition) -> RetryPolicy:
    b = flow.batching
    return RetryPolicy(retry_window_s=b.retry_window_s, max_attempts=b.max_attempts)


async def _parked(flow: str, shard: int) -> tuple[list[ParkedInfo], int]:
    store = open_store()
    rows = await in_thread(store.parked, flow, shard, MAX_PARKED_SHOWN)
    count = len(rows) if len(rows) < MAX_PARKED_SHOWN else await in_thread(store.parked_count, flow, shard)
    return [
        ParkedInfo(record=p.record_key, event_id=p.event_id, reason=p.reason, attempts=p.attempts,
                   since=p.since, held=p.held)
        for p in rows
    ], count


@activity.defn(name="signal.pump")
async def pump(inp: PumpInput) -> PumpResult:
    flow = context.flow(inp.flow)
    connection = context.connection(flow.destination.connection)
    platform = context.connection(flow.source.connection) if flow.source.connection else None
    store = open_store()
    limits = effective_limits(adapter_for(flow.destination.kind), flow)
    destination = connection.name

    async def deliver(events: list[PlatformEvent], last_hashes: dict[str, str]) -> list[EventOutcome]:
        outcomes = await deliver_batch(get_pool(), flow, connection, events, platform, last_hashes)
        for o in outcomes:
            if o.outcome == "skipped":
                telemetry.record_decision(flow.name, "skip", o.rule or "no rule")
            else:
                telemetry.record_delivery(flow.name, destination, o.outcome)
                if o.outcome == "delivered":
                    telemetry.record_decision(flow.name, "send", o.rule or "matched")
            if o.retry_after_s:
                telemetry.record_rate_limit_wait(destination, o.retry_after_s)
        return outcomes

    report = await run_pump(
        store,
        watcher_for(store),
        deliver,
        flow.name,
        inp.shard,
        PumpConfig(
            batch_limit=max(1, limits.batch_size),
            policy=policy_of(flow),
            budget_s=inp.budget_s,
            idle_return_s=min(inp.budget_s, flow.idle_finish_s),
        ),
        keyring=keyring_from_env(),
        shard_failures=inp.shard_failures,
        heartbeat=lambda offset: activity.heartbeat(offset),
        delivered_after=lambda seconds: telemetry.record_delivery_latency(flow.name, destination, seconds),
    )
    parked, count = await _parked(flow.name, inp.shard)
    return PumpResult(
        batches=report.batches, delivered=report.delivered, skipped=report.skipped, retried=report.retried,
        newly_parked=report.parked, pause_s=report.pause_s, pause_reason=report.pause_reason,
        pause_kind=report.pause_kind,
        shard_failures=report.shard_failures, offset=report.offset, idle=report.idle, parked=parked,
        parked_count=count,
    )


@activity.defn(name="signal.operate")
async def operate(inp: OperateInput) -> OperateResult:
    store = open_store()
    now = activity.info().current_attempt_scheduled_time.timestamp()
    fn = store.retry if inp.action == "retry" else store.discard
    records = await in_thread(fn, inp.flow, inp.shard, inp.record, inp.by, inp.reason, now)
    parked, count = await _parked(inp.flow, inp.shard)
    return OperateResult(records=records, parked=parked, parked_count=count)
