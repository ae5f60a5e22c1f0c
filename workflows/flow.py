"""Signal shard workflows (type `SignalShard`): one per (flow, shard), carrying offsets, not events.

Events live in the event store (eventsync/store). A shard's workflow runs the delivery loop as a
long activity (`signal.pump`) that reads, delivers and settles many batches before it reports
back: the offset every event at or below which is settled, counts, and the records it parked.
The workflow keeps only that (a few KB whatever the backlog), shows parked records as search
attributes, sleeps on a durable timer while the destination is down or out of quota, and runs
operators' `retry`/`discard` signals (who and why stay in its history) against the store.
It rolls over (continue-as-new) every few hundred activities; its state is tiny.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.context import UNKNOWN_NAME
    from activities.flow import OperateInput, OperateResult, ParkedInfo, PumpInput, PumpResult, operate, pump
    from workflows import search_attributes as sa

PUMP_BUDGET_S = 30.0
ROLL_OVER_EVENTS = 2_000  # history events per run; every pump costs ~6
MAX_RECORDS_SHOWN = 100


class ShardInput(BaseModel):
    flow: str  # a name: the worker delivers with its own definition of it
    shard: int
    account: str = ""  # shown in the Web UI (search attribute)
    task_queue: str | None = None  # the flow connection's delivery queue, if it pins one
    state: ShardLog | None = None


class Totals(BaseModel):
    delivered: int = 0
    skipped: int = 0
    retried: int = 0
    parked: int = 0
    batches: int = 0


class ShardLog(BaseModel):
    """All a shard carries across continue-as-new."""

    offset: int = 0
    totals: Totals = Field(default_factory=Totals)
    parked: list[ParkedInfo] = Field(default_factory=list)  # the first MAX_RECORDS_SHOWN
    parked_count: int = 0
    shard_failures: int = 0
    paused_until: float = 0.0
    paused_reason: str = ""
    paused_kind: str = ""  # quota | outage


class OperatorAction(BaseModel):
    record: str | None = None  # None: every parked record of this shard
    by: str
    reason: str = ""


class ShardSummary(BaseModel):
    flow: str
    shard: int
    offset: int
    parked: dict[str, ParkedInfo]
    parked_count: int
    totals: Totals
    waiting_until: float | None = None  # paused: destination down or out of quota (epoch seconds)
    waiting_reason: str = ""


ShardInput.model_rebuild()


@workflow.defn(name="SignalShard")
class SignalShardWorkflow:
    @workflow.init
    def __init__(self, inp: ShardInput) -> None:
        self.inp = inp
        self.log = inp.state or ShardLog()
        self.actions: list[tuple[str, OperatorAction]] = []
        self.shown: tuple[str, tuple[str, ...]] | None = None

    @workflow.signal(name="retry")
    def on_retry(self, action: OperatorAction) -> None:
        self.actions.append(("retry", action))

    @workflow.signal(name="discard")
    def on_discard(self, action: OperatorAction) -> None:
        self.actions.append(("discard", action))

    @workflow.signal(name="wake")
    def on_wake(self) -> None:
        """Sent when a shard is started for new events; a running shard needs nothing."""

    @workflow.query(name="summary")
    def summary(self) -> ShardSummary:
        paused = self.log.paused_until > workflow.now().timestamp()
        return ShardSummary(
            flow=self.inp.flow,
            shard=self.inp.shard,
            offset=self.log.offset,
            parked={p.record: p for p in self.log.parked},
            parked_count=self.log.parked_count,
            totals=self.log.totals,
            waiting_until=self.log.paused_until if paused else None,
            waiting_reason=self.log.paused_reason if paused else "",
        )

    def _show(self) -> None:
        paused = self.log.paused_until > workflow.now().timestamp()
        # waiting_quota: an account out of its allowance; waiting_outage: the destination is down.
        status = (
            f"waiting_{self.log.paused_kind or 'outage'}"
            if paused
            else "parked"
            if self.log.parked_count
            else "running"
        )
        records = tuple(p.record for p in self.log.parked[:MAX_RECORDS_SHOWN])
        if self.shown == (status, records):
            return
        self.shown = (status, records)
        updates: list[SearchAttributeUpdate[Any]] = [
            sa.STATUS.value_set(status),
            sa.RECORDS.value_set(list(records)) if records else sa.RECORDS.value_unset(),
        ]
        workflow.upsert_search_attributes(updates)

    async def _operate(self, kind: str, action: OperatorAction) -> None:
        result: OperateResult = await workflow.execute_activity(
            operate,
            OperateInput(
                flow=self.inp.flow, shard=self.inp.shard, action=kind, record=action.record,
                by=action.by, reason=action.reason,
            ),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=10)),
        )
        self.log.parked, self.log.parked_count = result.parked, result.parked_count
        if kind == "retry" and action.record is None:
            # "Go" from an operator after a quota reset or an outage: no need to wait for our timer.
            self.log.paused_until, self.log.shard_failures = 0.0, 0
        self._show()

    async def _pump(self) -> PumpResult:
        return await workflow.execute_activity(
            pump,
            PumpInput(flow=self.inp.flow, shard=self.inp.shard, shard_failures=self.log.shard_failures,
                      budget_s=PUMP_BUDGET_S),
            task_queue=self.inp.task_queue,
            start_to_close_timeout=timedelta(seconds=PUMP_BUDGET_S + 120),
            heartbeat_timeout=timedelta(seconds=10),
            # The store or the worker being down is waited out, forever: events are safe in the
            # store, and a shard that gave up would strand them.
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )

    async def _drain_actions(self) -> None:
        while self.actions:
            kind, action = self.actions.pop(0)
            await self._operate(kind, action)

    @workflow.run
    async def run(self, inp: ShardInput) -> ShardSummary:
        workflow.upsert_search_attributes(
            [sa.KIND.value_set("flow"), sa.NAME.value_set(inp.flow), sa.ACCOUNT.value_set(inp.account)]
        )
        self._show()
        while True:
            await self._drain_actions()
            now = workflow.now().timestamp()
            if self.log.paused_until > now:
                self._show()
                try:
                    await workflow.wait_condition(
                        lambda: bool(self.actions), timeout=self.log.paused_until - now
                    )
                except TimeoutError:
                    pass
                continue
            task = asyncio.ensure_future(self._pump())
            while not task.done():
                await workflow.wait_condition(lambda t=task: t.done() or bool(self.actions))  # type: ignore[misc]
                await self._drain_actions()
            try:
                result = task.result()
            except ActivityError as err:
                cause = err.cause
                if isinstance(cause, ApplicationError) and cause.type == UNKNOWN_NAME:
                    # The flow is gone from the worker's definitions: nothing here can deliver it.
                    workflow.upsert_search_attributes([sa.STATUS.value_set("removed")])
                    workflow.logger.warning("flow shard ends: %s", cause.message)
                    return self.summary()
                raise
            self._record(result)
            self._show()
            if workflow.info().is_continue_as_new_suggested() or (
                workflow.info().get_current_history_length() > ROLL_OVER_EVENTS
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not self.actions:
                    workflow.continue_as_new(
                        ShardInput(flow=inp.flow, shard=inp.shard, account=inp.account,
                                   task_queue=inp.task_queue, state=self.log)
                    )

    def _record(self, r: PumpResult) -> None:
        t = self.log.totals
        t.delivered += r.delivered
        t.skipped += r.skipped
        t.retried += r.retried
        t.parked += len(r.newly_parked)
        t.batches += r.batches
        self.log.offset = max(self.log.offset, r.offset)
        self.log.parked, self.log.parked_count = r.parked, r.parked_count
        self.log.shard_failures = r.shard_failures
        if r.pause_s > 0:
            self.log.paused_until = workflow.now().timestamp() + r.pause_s
            self.log.paused_reason, self.log.paused_kind = r.pause_reason, r.pause_kind
        else:
            self.log.paused_reason = ""
