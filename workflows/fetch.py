"""One API Fetch run: page after page until the source is exhausted, the run time limit or the
page limit is reached, or an operator cancels. Each activity reads and applies a bounded group of
pages (`limits.pages_per_activity`), pipelined, heartbeating its committed position after each
page, and returns only where it stopped. Records stay in the activity. The run's state and its
decisions (commit, park, resume, limits, what the next run starts from) are `FetchRun`
(eventsync/fetch/run.py), plain data; this workflow drives it with activities and signals.

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
    from activities.fetch import (
        FETCH_PERMANENT,
        DefinitionRequest,
        RunEnded,
        fetch_definition,
        fetch_page,
        fetch_run_ended,
    )
    from eventsync.definitions.fetches import FetchDefinition
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
    )
    from eventsync.fetch.run import FetchRun, Status
    from workflows import search_attributes as sa
    from workflows.parking import Parking, headline_of, reason_of

KIND = "fetch"
# Runs before this patch carried their definition in the input and had no `fetch_definition` step.
BY_NAME_PATCH = "fetch-definition-by-name"
ACTIVITY_SLICE_S = 10.0


def schedule_id(name: str) -> str:
    return f"fetch:{name}"


def workflow_id_prefix(name: str) -> str:
    """Runs started by the fetch's schedule are named `<prefix>-<scheduled time>`."""
    return f"fetch:{name}"


@workflow.defn(name="FetchWorkflow")
class FetchWorkflow:
    def __init__(self) -> None:
        self._run: FetchRun | None = None
        self._name = ""
        self._status = "starting"
        self._last_error: str | None = None
        self._parking = Parking()
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
        if inp.state is not None:
            run = FetchRun(defn, inp.state, ACTIVITY_SLICE_S)
        else:
            run = FetchRun.begin(
                defn, now=workflow.now(), last=last, reset=inp.reset, slice_s=ACTIVITY_SLICE_S
            )
        run.state.definition_changes.extend(self._early_changes)
        self._run = run
        self._set_status("running")
        status: Status
        try:
            status = await self._pages(run)
        except asyncio.CancelledError:
            status = "cancelled"
        run.last_error = self._last_error
        result = run.finish(status, self._hash)
        self._set_status(status)
        if self._by_name:
            await self._record_duration(run, status)
        return result

    async def _record_duration(self, run: FetchRun, status: str) -> None:
        seconds = (workflow.now() - datetime.fromisoformat(run.state.started_at)).total_seconds()
        try:
            await workflow.execute_local_activity(
                fetch_run_ended,
                RunEnded(name=self._name, status=status, seconds=seconds),
                start_to_close_timeout=timedelta(seconds=5),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        except ActivityError:
            workflow.logger.warning("fetch %s: the run's duration was not recorded", self._name)

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
                if self._run is not None:
                    self._run.resume(resolved.definition, change.previous, change.current)
                else:
                    self._early_changes.append(change)
                workflow.logger.info(
                    "fetch %s: resumed with definition %s (was %s)",
                    self._name,
                    change.current,
                    change.previous,
                )
            elif self._run is not None:
                self._run.resume(resolved.definition)
            self._hash = resolved.definition_hash
            return resolved.definition

    async def _pages(self, run: FetchRun) -> Status:
        while True:
            ended = run.next(workflow.now())
            if ended != "fetch":
                return ended
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                run.state.continued += 1
                workflow.continue_as_new(
                    FetchRunInput(name=self._name, definition_hash=self._hash, state=run.state)
                )
            result = await self._one_group(run)
            if result is None:
                if self._by_name:
                    # The operator fixed what parked the run: run what the worker has now.
                    await self._resolve(None)
                continue  # parked, then resumed: the same page again
            if run.landed(result) == "done":
                return "done"

    async def _one_group(self, run: FetchRun) -> PageResult | None:
        defn = run.defn
        limits, retry = defn.limits, defn.retry
        group = run.group(workflow.now())
        page_input = PageInput(
            name=self._name,
            definition_hash=self._hash,
            position=run.state.position,
            window=run.state.window,
            max_pages=group.pages,
            budget_s=group.budget_s,
            skip=run.state.skip,
        )
        timeout = timedelta(seconds=limits.page_timeout_s * group.pages)
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
                run.landed(landed)
                raise
        except ActivityError as err:
            if is_cancelled_exception(err):
                raise asyncio.CancelledError() from err
            await self._park(err)
            return None

    async def _park(self, err: ActivityError) -> None:
        reason = reason_of(err)
        self._last_error = reason
        if self._run is not None:
            self._run.park(reason)
        workflow.logger.warning("fetch %s parked: %s", self._name, headline_of(err))
        await self._parking.park(reason, self._set_status)

    def _set_status(self, status: str) -> None:
        self._status = status
        workflow.upsert_search_attributes(
            [sa.KIND.value_set(KIND), sa.NAME.value_set(self._name), sa.STATUS.value_set(status)]
        )
        st = self._run.state if self._run is not None else None
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
        self._parking.resume()

    @workflow.query(name="progress")
    def progress(self) -> FetchProgress:
        if self._run is None:  # parked or waiting before its definition was resolved
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
        st = self._run.state
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
