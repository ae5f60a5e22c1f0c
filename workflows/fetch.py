"""One API Fetch run: page after page until the source is exhausted, the run time limit or the
page limit is reached, or an operator cancels. Each activity reads and applies a bounded group of
pages (`limits.pages_per_activity`) and returns only where it stopped. Records stay in the
activity; this workflow holds the position, the committed checkpoint and the counts.

A permanent failure parks the run (status `parked`, visible in the `EventsyncStatus` search
attribute and the `progress` query) until a `resume` signal; the failed page is then retried
from the same position, so nothing is lost.

The input names the fetch and pins its definition's content hash; the definition itself comes
from the worker (the `fetch_definition` activity), never from the input. A resume takes the
worker's current definition: fixing a definition, `apply`, `fetch resume` is the way out of a
park, and the run records each hash change (`progress`, memo, the activity in history).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, is_cancelled_exception
from temporalio.workflow import ActivityCancellationType

with workflow.unsafe.imports_passed_through():
    from activities.context import DEFINITION_CHANGED, UNKNOWN_NAME
    from activities.fetch import FETCH_PERMANENT, DefinitionRequest, fetch_definition, fetch_page
    from eventsync.definitions.fetches import FetchDefinition
    from eventsync.fetch import checkpoint as cp
    from eventsync.fetch.models import (
        Carry,
        CheckpointValue,
        Counts,
        DefinitionChange,
        FetchProgress,
        FetchRunInput,
        FetchRunResult,
        PageInput,
        PageResult,
        Position,
        ResolvedFetch,
        RunState,
    )
    from eventsync.fetch.pagination import first_position
    from workflows import search_attributes as sa

KIND = "fetch"
# Runs before this patch carried their definition in the input and had no `fetch_definition` step.
BY_NAME_PATCH = "fetch-definition-by-name"
ACTIVITY_SLICE_S = 2.0


def schedule_id(name: str) -> str:
    return f"fetch:{name}"


def workflow_id_prefix(name: str) -> str:
    """Runs started by the fetch's schedule are named `<prefix>-<scheduled time>`."""
    return f"fetch:{name}"


def _initial_state(
    defn: FetchDefinition, inp: FetchRunInput, last: FetchRunResult | None, now: datetime
) -> RunState:
    carry = Carry() if last is None else last.carry.model_copy(deep=True)
    if inp.reset is not None and carry.reset_token != inp.reset.token:
        carry = Carry(checkpoint=inp.reset.checkpoint, reset_token=inp.reset.token)
    if defn.checkpoint is None:
        carry.checkpoint = carry.pending_high = carry.resume_window = None
    if carry.resume is not None:
        position, window = carry.resume, carry.resume_window
    else:
        position, window = first_position(defn), carry.checkpoint
    return RunState(carry=carry, position=position, window=window, started_at=now.isoformat())


@workflow.defn(name="FetchWorkflow")
class FetchWorkflow:
    def __init__(self) -> None:
        self._state: RunState | None = None
        self._name = ""
        self._status = "starting"
        self._last_error: str | None = None
        self._resume_requested = False
        self._hash: str | None = None  # the definition this run runs (pinned, then as resumed)
        self._early_changes: list[DefinitionChange] = []
        self._by_name = False

    @workflow.run
    async def run(self, inp: FetchRunInput) -> FetchRunResult:
        self._name = inp.name
        last = (
            workflow.get_last_completion_result(FetchRunResult)
            if inp.state is None and workflow.has_last_completion_result()
            else None
        )
        self._by_name = workflow.patched(BY_NAME_PATCH)
        self._hash = inp.definition_hash
        try:
            if self._by_name:
                defn = await self._resolve(inp.definition_hash)
            else:
                assert inp.definition is not None, "a run from before BY_NAME_PATCH carries its definition"
                defn = inp.definition
        except asyncio.CancelledError:
            # Cancelled before it began: hand the previous run's checkpoint on untouched.
            carry = inp.state.carry if inp.state is not None else (last.carry if last else Carry())
            self._set_status("cancelled")
            return FetchRunResult(
                status="cancelled", carry=carry, counts=Counts(), last_error=self._last_error
            )
        state = inp.state if inp.state is not None else _initial_state(defn, inp, last, workflow.now())
        state.definition_changes.extend(self._early_changes)
        self._state = state
        self._set_status("running")
        try:
            status = await self._pages(defn, inp, state)
        except asyncio.CancelledError:
            status = "cancelled"
        return self._finish(defn, state, status)

    async def _resolve(self, pinned: str | None) -> FetchDefinition:
        """The worker's definition of this fetch, checked against `pinned`. A failure (unknown
        name, a changed definition) parks the run; a resume takes the current definition."""
        while True:
            try:
                resolved: ResolvedFetch = await workflow.execute_activity(
                    fetch_definition,
                    DefinitionRequest(name=self._name, pinned=pinned),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=RetryPolicy(
                        maximum_attempts=5, non_retryable_error_types=[UNKNOWN_NAME, DEFINITION_CHANGED]
                    ),
                )
            except ActivityError as err:
                if is_cancelled_exception(err):
                    raise asyncio.CancelledError() from err
                await self._park(err)
                pinned = None
                continue
            if self._hash is not None and resolved.definition_hash != self._hash:
                change = DefinitionChange(previous=self._hash, current=resolved.definition_hash)
                if self._state is not None:
                    self._state.definition_changes.append(change)
                else:
                    self._early_changes.append(change)
                workflow.logger.info(
                    "fetch %s: resumed with definition %s (was %s)",
                    self._name,
                    change.current,
                    change.previous,
                )
            self._hash = resolved.definition_hash
            return resolved.definition

    async def _pages(self, defn: FetchDefinition, inp: FetchRunInput, state: RunState) -> str:
        limits = defn.limits
        started = datetime.fromisoformat(state.started_at)
        while True:
            if (
                limits.run_time_limit_s is not None
                and (workflow.now() - started).total_seconds() >= limits.run_time_limit_s
            ):
                return "time_limit"
            if limits.max_pages is not None and state.counts.pages >= limits.max_pages:
                return "max_pages"
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                state.continued += 1
                workflow.continue_as_new(
                    FetchRunInput(name=self._name, definition_hash=self._hash, state=state)
                )
            result = await self._one_page(defn, state)
            if result is None:
                if self._by_name:
                    # The operator fixed what parked the run: run what the worker has now.
                    defn = await self._resolve(None)
                    limits = defn.limits
                continue  # parked, then resumed: the same page again
            self._commit(defn, state, result)
            if result.next is None:
                return "done"
            state.position = result.next

    async def _one_page(self, defn: FetchDefinition, state: RunState) -> PageResult | None:
        limits, retry = defn.limits, defn.retry
        group = limits.pages_per_activity
        if limits.max_pages is not None:
            group = min(group, limits.max_pages - state.counts.pages)
        # One activity reads a group of pages for at most a slice, so that `progress` (and the
        # run time limit) move at least that often.
        budget = ACTIVITY_SLICE_S
        if limits.run_time_limit_s is not None:
            elapsed = (workflow.now() - datetime.fromisoformat(state.started_at)).total_seconds()
            budget = max(0.0, min(budget, limits.run_time_limit_s - elapsed))
        page_input = PageInput(
            name=self._name,
            definition_hash=self._hash,
            position=state.position,
            window=state.window,
            max_pages=group,
            budget_s=budget,
        )
        timeout = timedelta(seconds=limits.page_timeout_s * group)
        heartbeat = timedelta(seconds=limits.heartbeat_timeout_s)
        policy = RetryPolicy(
            initial_interval=timedelta(seconds=retry.initial_interval_s),
            maximum_interval=timedelta(seconds=retry.maximum_interval_s),
            maximum_attempts=retry.maximum_attempts,
            non_retryable_error_types=[FETCH_PERMANENT, UNKNOWN_NAME, DEFINITION_CHANGED],
        )
        try:
            if not self._by_name:
                return await workflow.execute_activity(
                    fetch_page,
                    page_input,
                    start_to_close_timeout=timeout,
                    heartbeat_timeout=heartbeat,
                    retry_policy=policy,
                )
            group_run = workflow.start_activity(
                fetch_page,
                page_input,
                start_to_close_timeout=timeout,
                heartbeat_timeout=heartbeat,
                retry_policy=policy,
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
            try:
                return await asyncio.shield(group_run)
            except asyncio.CancelledError:
                # The run is cancelled mid-group: the activity returns the pages it has
                # committed (its heartbeat), and they are committed here before the run ends.
                group_run.cancel()
                try:
                    landed = await group_run
                except (ActivityError, asyncio.CancelledError):
                    raise asyncio.CancelledError() from None
                if landed.next is None:
                    return landed  # that was the last page: the run is done
                self._commit(defn, state, landed)
                state.position = landed.next
                raise
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise asyncio.CancelledError() from err
            await self._park(err)
            return None

    def _commit(self, defn: FetchDefinition, state: RunState, result: PageResult) -> None:
        state.counts.add(result.counts)
        if result.total is not None:
            state.total = result.total
        ck = defn.checkpoint
        if ck is None or result.high_water is None:
            return
        if ck.sorted:
            # Ascending source: everything up to this page's top value has been applied.
            state.carry.checkpoint = cp.later(ck, state.carry.checkpoint, result.high_water)
        else:
            state.carry.pending_high = cp.later(ck, state.carry.pending_high, result.high_water)

    async def _park(self, err: ActivityError) -> None:
        cause = err.cause
        # An ApplicationError's str() is "<type>: <message>" already.
        reason = str(cause) if cause is not None else str(err)
        self._last_error = reason
        self._set_status("parked")
        workflow.logger.warning("fetch %s parked: %s", self._name, reason)
        await workflow.wait_condition(lambda: self._resume_requested)
        self._resume_requested = False
        self._set_status("running")

    def _finish(self, defn: FetchDefinition, state: RunState, status: str) -> FetchRunResult:
        carry = state.carry
        ck = defn.checkpoint
        if status == "done" or ck is None:
            if ck is not None:
                carry.checkpoint = cp.later(ck, carry.checkpoint, carry.pending_high)
            carry.resume = carry.resume_window = carry.pending_high = None
        elif not ck.sorted:
            # The pagination is unfinished and the source unsorted: a later page may still hold
            # older values, so the checkpoint cannot move yet; the next run continues this pass.
            carry.resume, carry.resume_window = state.position, state.window
        self._set_status(status)
        return FetchRunResult(
            status=status,
            carry=carry,
            counts=state.counts,
            last_error=self._last_error,
            started_at=state.started_at,
            definition_hash=self._hash,
            definition_changes=list(state.definition_changes),
        )

    def _set_status(self, status: str) -> None:
        self._status = status
        workflow.upsert_search_attributes(
            [sa.KIND.value_set(KIND), sa.NAME.value_set(self._name), sa.STATUS.value_set(status)]
        )
        st = self._state
        summary = f"fetch {self._name}: {status}"
        if st is not None:
            summary += (
                f", {st.counts.pages} pages, {st.counts.applied} applied, {st.counts.rejected} rejected, "
                f"checkpoint {st.carry.checkpoint}"
            )
        if self._hash is not None:
            summary += f"; definition {self._hash}"
        if self._last_error and status == "parked":
            summary += (
                f"; parked on: {self._last_error}; fix the cause, then `eventsync fetch resume {self._name}` "
                "(it runs the worker's current definition)"
            )
        workflow.upsert_memo({"summary": summary})

    @workflow.signal(name="resume")
    def resume(self) -> None:
        # Only a parked run has something to resume; a stray signal must not pre-approve a future park.
        if self._status == "parked":
            self._resume_requested = True

    @workflow.query(name="progress")
    def progress(self) -> FetchProgress:
        st = self._state
        if st is None:  # parked or waiting before its definition was resolved
            return FetchProgress(
                name=self._name,
                status=self._status,
                definition_hash=self._hash,
                definition_changes=list(self._early_changes),
                checkpoint=None,
                window=None,
                position=Position(),
                counts=Counts(),
                last_error=self._last_error,
                started_at=workflow.info().start_time.isoformat(),
            )
        return FetchProgress(
            name=self._name,
            status=self._status,
            definition_hash=self._hash,
            definition_changes=list(st.definition_changes),
            checkpoint=st.carry.checkpoint,
            window=st.window,
            position=st.position,
            counts=st.counts,
            last_error=self._last_error,
            started_at=st.started_at,
            total=st.total,
        )


__all__ = ["FetchWorkflow", "CheckpointValue", "schedule_id", "workflow_id_prefix"]
