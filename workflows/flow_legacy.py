"""The first design's flow shard workflow (type `FlowShard`), kept only so that shards started
before the event store drain what they still hold: no receiver signals them any more, each
delivers its queued events, then finishes after `idle_finish_s` (docs/architecture.md,
"Upgrading from signal-fed shards"). Its code is unchanged so that its histories replay; new
events go to `workflows/flow.py` (type `SignalShard`). Remove it once no `FlowShard` runs.

One per (flow, shard), fed by signals carrying batches of events.

Per-record order: a record's events wait in its own queue; only its head is ever in flight, so
nothing overtakes. Dedupe: by event id (ShardState.seen). Decisions: ShardState.decisions, read by
the `explain` query. Parking: a rejected or exhausted record stays parked (its later events held)
until a `retry` or `discard` signal. The run continues-as-new before history or signal limits and
finishes after `idle_finish_s` with nothing queued or parked. See docs/architecture.md.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.flow_legacy import DeliverInput, DeliverResult, deliver
    from eventsync.definitions.connections import Connection
    from eventsync.definitions.flows import FlowDefinition
    from eventsync.destinations.base import effective_limits
    from eventsync.destinations.registry import adapter_for
    from eventsync.flows.events import PlatformEvent
    from eventsync.flows.ordering import Counters, DecisionEntry, EventOutcome, Parked, ShardState
    from eventsync.flows.timeline import Bucket
    from workflows import search_attributes as sa

MAX_BATCHES_IN_FLIGHT = 2  # while one batch is out, the next one fills: batches grow with load
MAX_SIGNALS_PER_RUN = 4_000  # the server's cap is 10,000 per execution: stay far below it
MAX_HISTORY_EVENTS = 8_000  # in case the server's suggestion is configured higher
MAX_PARKED_IN_SEARCH = 100
# The state a run carries into the next one is one payload (2 MB hard limit, PayloadsTooLarge
# fails the task for good). A burst can queue thousands of events (~1.3 KB each) in a shard, so
# a roll-over waits, delivering, until the state fits this budget; only near the history's own
# hard limits (51,200 events / 50 MB) does it go regardless.
CARRY_BUDGET_BYTES = 1_500_000
MUST_GO_HISTORY_EVENTS = 40_000
MUST_GO_HISTORY_BYTES = 40_000_000
MUST_GO_SIGNALS = 9_000
PATCH_CARRY_FITS = "carry-fits-before-continue-as-new"
# A continue-as-new that a new signal beats is refused; the worker then evicts the run and
# replays its whole history (~0.3 s per MB here), and every event queued in the shard waits for
# it. Rolling over by size keeps that stall short; a quiet shard also rolls over early, when
# its carried state is smallest, so the next burst starts on a short history.
ROLL_HISTORY_BYTES = 1_000_000
ROLL_IDLE_HISTORY_BYTES = 250_000
PATCH_ROLL_BY_SIZE = "roll-over-by-history-size"
RECORDS_REFRESH_S = 5.0


class FlowShardInput(BaseModel):
    flow: FlowDefinition
    connection: Connection
    shard: int
    state: ShardState | None = None
    platform: Connection | None = None


class EventBatch(BaseModel):
    events: list[PlatformEvent]


class OperatorAction(BaseModel):
    record: str | None = None  # None: every parked record of this shard
    by: str
    reason: str = ""


class ShardSummary(BaseModel):
    flow: str
    shard: int
    pending: int
    parked: dict[str, Parked]
    counters: Counters
    timeline: list[Bucket] = []  # counts per minute (the metrics dashboard)
    waiting_until: float | None = None  # paused for an account quota reset (epoch seconds)
    waiting_reason: str = ""


@workflow.defn(name="FlowShard")
class FlowShardWorkflow:
    @workflow.init
    def __init__(self, inp: FlowShardInput) -> None:
        self.inp = inp
        self.state = inp.state or ShardState()
        self.dirty = True
        self.signals = 0
        self.parked_shown: list[str] = []
        self.parked_flag = False
        self.paused_shown = False
        self.event_shown = ""
        self.last_event_code = ""
        self.records_shown_at = 0.0
        self.carry_checked: tuple[int, bool] | None = None  # (pending when measured, fits)
        self.started_size = workflow.info().get_current_history_size()

    # ---- messages -------------------------------------------------------------------------------

    @workflow.signal(name="events")
    def on_events(self, batch: EventBatch) -> None:
        self.signals += 1
        self.state.add(batch.events, self._now())
        if batch.events and batch.events[-1].event_code:
            self.last_event_code = batch.events[-1].event_code
        self.dirty = True

    @workflow.signal(name="retry")
    def on_retry(self, action: OperatorAction) -> None:
        self.signals += 1
        self.state.retry(action.record, action.by, action.reason, self._now())
        self.dirty = True

    @workflow.signal(name="discard")
    def on_discard(self, action: OperatorAction) -> None:
        self.signals += 1
        self.state.discard(action.record, action.by, action.reason, self._now())
        self.dirty = True

    @workflow.query(name="explain")
    def explain(self, record: str) -> list[DecisionEntry]:
        return self.state.explain(record)

    @workflow.query(name="summary")
    def summary(self) -> ShardSummary:
        return ShardSummary(
            flow=self.inp.flow.name,
            shard=self.inp.shard,
            pending=self.state.pending(),
            parked=dict(self.state.parked),
            counters=self.state.counters,
            timeline=self.state.timeline.buckets,
            waiting_until=self.state.paused_until if self.state.paused(self._now()) else None,
            waiting_reason=self.state.paused_reason if self.state.paused(self._now()) else "",
        )

    # ---- main loop ------------------------------------------------------------------------------

    def _now(self) -> float:
        return workflow.now().timestamp()

    def _must_roll_over(self, idle: bool) -> bool:
        info = workflow.info()
        if (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() > MAX_HISTORY_EVENTS
            or self.signals > MAX_SIGNALS_PER_RUN
        ):
            return True
        # Growth since the run began: the carried state alone must never trigger a roll-over.
        grown = info.get_current_history_size() - self.started_size
        return grown > (ROLL_IDLE_HISTORY_BYTES if idle else ROLL_HISTORY_BYTES) and workflow.patched(
            PATCH_ROLL_BY_SIZE
        )

    def _carry_fits(self) -> bool:
        """Whether the state fits the continue-as-new payload budget (measured again only once
        the queue has shrunk by a quarter: serializing a large state is not free)."""
        info = workflow.info()
        if (
            info.get_current_history_length() > MUST_GO_HISTORY_EVENTS
            or info.get_current_history_size() > MUST_GO_HISTORY_BYTES
            or self.signals > MUST_GO_SIGNALS
        ):
            return True
        pending = self.state.pending()
        if self.carry_checked is not None:
            at, fits = self.carry_checked
            if fits and pending <= at:
                return True
            if not fits and pending > at * 3 // 4:
                return False
        fits = len(self.state.model_dump_json()) <= CARRY_BUDGET_BYTES
        self.carry_checked = (pending, fits)
        return fits

    async def _deliver(self, batch: list[PlatformEvent]) -> None:
        try:
            result: DeliverResult = await workflow.execute_activity(
                deliver,
                DeliverInput(
                    flow=self.inp.flow,
                    connection=self.inp.connection,
                    events=batch,
                    platform=self.inp.platform,
                ),
                # None: this run's own task queue. A connection may pin its deliveries to a queue
                # of their own, so one worker paces the vendor's account limit for everyone.
                task_queue=self.inp.connection.task_queue,
                start_to_close_timeout=timedelta(seconds=60),
                heartbeat_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(maximum_attempts=3, maximum_interval=timedelta(seconds=10)),
            )
            outcomes = result.outcomes
        except ActivityError as err:
            # The activity itself broke (not a destination answer): back off every record of the
            # batch and try again; order holds because each record's head stays at the head.
            outcomes = [
                EventOutcome(
                    event_id=e.id, record_key=e.record_key, outcome="retry", detail=str(err.cause or err)
                )
                for e in batch
            ]
        self.state.settle(batch, outcomes, self._now(), self.inp.flow.batching.max_attempts or 12)
        self.dirty = True

    def _show_status(self) -> None:
        # Records findable in the Web UI: the parked ones first, then those waiting to go out.
        parked = sorted(self.state.parked)[:MAX_PARKED_IN_SEARCH]
        waiting = sorted(r for r in self.state.queues if r not in self.state.parked)
        shown = (parked + waiting)[:MAX_PARKED_IN_SEARCH]
        updates: list[SearchAttributeUpdate[Any]] = []
        stale = self._now() - self.records_shown_at >= RECORDS_REFRESH_S
        if self.last_event_code != self.event_shown and (stale or not self.event_shown):
            self.event_shown = self.last_event_code
            updates.append(sa.EVENT.value_set(self.event_shown))
        # A quota pause (Marketo 607, HubSpot DAILY, ...) shows as its own status until it ends.
        paused = self.state.paused(self._now())
        # Waiting records change with every batch: refresh them at most every few seconds, so
        # search-attribute upserts do not grow the history at full throughput.
        if (
            paused != self.paused_shown
            or bool(parked) != self.parked_flag
            or parked != self.parked_shown[: len(parked)]
            or (stale and shown != self.parked_shown)
        ):
            self.records_shown_at = self._now()
            self.parked_shown = shown
            self.parked_flag = bool(parked)
            self.paused_shown = paused
            status = "waiting_quota" if paused else "parked" if parked else "running"
            updates += [
                sa.STATUS.value_set(status),
                sa.RECORDS.value_set(shown) if shown else sa.RECORDS.value_unset(),
            ]
        if updates:
            workflow.upsert_search_attributes(updates)

    @workflow.run
    async def run(self, inp: FlowShardInput) -> ShardSummary:
        workflow.upsert_search_attributes(
            [
                sa.KIND.value_set("flow"),
                sa.NAME.value_set(inp.flow.name),
                sa.ACCOUNT.value_set(inp.flow.source.account),
                sa.STATUS.value_set("running"),
            ]
        )
        self.parked_shown = []
        self._show_status()
        limit = effective_limits(adapter_for(inp.flow.destination.kind), inp.flow).batch_size
        in_flight: set[asyncio.Task[None]] = set()
        while True:
            rolling = self._must_roll_over(idle=self.state.idle() and not in_flight)
            if rolling and not self._carry_fits() and workflow.patched(PATCH_CARRY_FITS):
                rolling = False  # keep delivering until the carried queue is small enough
            self.dirty = False
            while not rolling and len(in_flight) < MAX_BATCHES_IN_FLIGHT:
                batch = self.state.take_batch(self._now(), limit)
                if not batch:
                    break
                task = asyncio.create_task(self._deliver(batch))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            self._show_status()
            if rolling and not in_flight:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    FlowShardInput(
                        flow=inp.flow,
                        connection=inp.connection,
                        shard=inp.shard,
                        state=self.state,
                        platform=inp.platform,
                    )
                )
            if self.state.idle() and not in_flight:
                try:
                    await workflow.wait_condition(lambda: self.dirty, timeout=inp.flow.idle_finish_s)
                except TimeoutError:
                    if self.state.idle():
                        workflow.upsert_search_attributes([sa.STATUS.value_set("done")])
                        return self.summary()
                continue
            wake = self.state.next_wake()
            timeout = None if wake is None else max(0.001, wake - self._now())
            try:
                await workflow.wait_condition(lambda: self.dirty, timeout=timeout)
            except TimeoutError:
                pass
