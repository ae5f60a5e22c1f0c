"""Operating fetches through their schedules: run, status, resume, cancel, reset.

The CLI (client/commands/fetch.py) is a thin shell over these; tests call them directly.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleOverlapPolicy,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from client.queries import NoAnswer, ask
from client.schedules import current_input
from eventsync.definitions.fetches import FetchDefinition
from eventsync.fetch import checkpoint as cp
from eventsync.fetch.models import FetchProgress, FetchRunResult, PageResult, ResetRequest
from eventsync.logs import escape_controls
from workflows.fetch import FetchWorkflow, schedule_id


class FetchControlError(Exception):
    """An operator request that cannot be done now; the message says why and what to do."""


class RunParked(FetchControlError):
    """A followed run parked: the operator must act (the message says how)."""

    def __init__(self, name: str, run_id: str, reason: str | None) -> None:
        super().__init__(
            f"fetch {name!r} parked (workflow {run_id}): {escape_controls(reason) if reason else 'no reason recorded'}\n"
            f"  fix the cause, then: eventsync fetch resume {name}   (it runs the worker's current definition)"
        )
        self.reason = reason


async def _schedule(client: Client, name: str) -> ScheduleHandle:
    handle = client.get_schedule_handle(schedule_id(name))
    try:
        await handle.describe()
    except RPCError as e:
        if e.status == RPCStatusCode.NOT_FOUND:
            raise FetchControlError(
                f"fetch {name!r} has no schedule {schedule_id(name)!r}: run `eventsync apply` first"
            ) from None
        raise
    return handle


async def running_run(client: Client, name: str) -> WorkflowHandle[Any, Any] | None:
    desc = await (await _schedule(client, name)).describe()
    for action in desc.info.running_actions:
        if isinstance(action, ScheduleActionExecutionStartWorkflow):
            return client.get_workflow_handle(action.workflow_id)
    return None


async def last_run(client: Client, name: str) -> WorkflowHandle[Any, Any] | None:
    desc = await (await _schedule(client, name)).describe()
    recent = [
        a.action
        for a in desc.info.recent_actions
        if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
    ]
    return client.get_workflow_handle(recent[-1].workflow_id, result_type=FetchRunResult) if recent else None


def _running_ids(desc: ScheduleDescription) -> list[str]:
    return [
        a.workflow_id
        for a in desc.info.running_actions
        if isinstance(a, ScheduleActionExecutionStartWorkflow)
    ]


async def trigger(client: Client, name: str) -> None:
    """Start a run now. Refused while a run is in progress (one run per fetch at a time)."""
    handle = await _schedule(client, name)
    running = await running_run(client, name)
    if running is not None:
        try:
            parked = (await progress(running, client)).status == "parked"
        except FetchControlError:
            parked = False
        if parked:
            raise FetchControlError(
                f"fetch {name!r} is already running and parked (workflow {running.id}); one run at a time: "
                f"`eventsync fetch status {name}` shows why; fix it, then `eventsync fetch resume {name}`, "
                f"or `eventsync fetch cancel {name}`"
            )
        raise FetchControlError(
            f"fetch {name!r} is already running (workflow {running.id}); one run at a time: wait for it, "
            f"`eventsync fetch status {name}`, or `eventsync fetch cancel {name}`"
        )
    # A schedule names its runs `<prefix>-<time to the second>`: a second trigger within the same
    # second as the previous run would reuse that id and be dropped silently. Wait the second out.
    desc = await handle.describe()
    if desc.info.recent_actions:
        last = max(a.scheduled_at for a in desc.info.recent_actions)
        for _ in range(30):
            if int(datetime.now(UTC).timestamp()) > int(last.timestamp()):
                break
            await asyncio.sleep(0.05)
    await handle.trigger(overlap=ScheduleOverlapPolicy.SKIP)


async def wait_started(
    client: Client, name: str, after: set[str], attempts: int = 200
) -> WorkflowHandle[Any, Any]:
    """The run a trigger started (the schedule starts it asynchronously)."""
    for _ in range(attempts):
        desc = await (await _schedule(client, name)).describe()
        ids = [
            a.action.workflow_id
            for a in desc.info.recent_actions
            if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
        ]
        ids += _running_ids(desc)
        new = [i for i in ids if i not in after]
        if new:
            return client.get_workflow_handle(new[-1])
        await asyncio.sleep(0.1)
    raise FetchControlError(f"fetch {name!r}: the triggered run did not start (is a worker running?)")


async def known_runs(client: Client, name: str) -> set[str]:
    desc = await (await _schedule(client, name)).describe()
    ids = {
        a.action.workflow_id
        for a in desc.info.recent_actions
        if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
    }
    return ids | set(_running_ids(desc))


async def run_now(client: Client, name: str) -> WorkflowHandle[Any, Any]:
    before = await known_runs(client, name)
    await trigger(client, name)
    return await wait_started(client, name, before)


async def follow(
    client: Client,
    name: str,
    run_id: str,
    on_progress: Callable[[FetchProgress], None] | None = None,
    poll_s: float = 0.5,
) -> FetchRunResult:
    """Wait for a run's result (across continue-as-new), reporting its progress as it moves. A
    run that parks raises RunParked at once: waiting on it would wait for an operator."""
    typed = client.get_workflow_handle(run_id, result_type=FetchRunResult)
    result = asyncio.ensure_future(typed.result())
    try:
        while True:
            done, _ = await asyncio.wait({result}, timeout=poll_s)
            if done:
                try:
                    return result.result()
                except WorkflowFailureError as e:
                    raise FetchControlError(f"fetch {name!r} run {run_id} failed: {e.cause or e}") from None
            try:
                now = await progress(typed, client)
            except (RPCError, WorkflowQueryFailedError, FetchControlError):
                continue  # between runs of a continue-as-new, or no worker yet: ask again
            if on_progress is not None:
                on_progress(now)
            if now.status == "parked":
                raise RunParked(name, run_id, now.last_error)
    finally:
        result.cancel()


async def resume(client: Client, name: str) -> str:
    run = await running_run(client, name)
    if run is None:
        raise FetchControlError(f"fetch {name!r} has no run in progress: nothing to resume")
    now = await progress(run, client)
    if now.status != "parked":
        raise FetchControlError(f"fetch {name!r} is {now.status}, not parked: nothing to resume")
    await run.signal(FetchWorkflow.resume)
    return run.id


async def cancel(client: Client, name: str) -> str:
    run = await running_run(client, name)
    if run is None:
        raise FetchControlError(f"fetch {name!r} has no run in progress")
    await run.cancel()
    return run.id


async def reset(client: Client, name: str, value: Any | None, definition: FetchDefinition) -> ResetRequest:
    """The next run starts from `value` (None: the definition's initial value). `definition` is
    the operator's copy of the fetch, to check the value against its checkpoint's type."""
    handle = await _schedule(client, name)
    if await running_run(client, name) is not None:
        raise FetchControlError(
            f"fetch {name!r} is running: `eventsync fetch cancel {name}` first, then reset"
        )
    ck = definition.checkpoint
    if ck is None:
        raise FetchControlError(f"fetch {name!r} has no checkpoint to reset")
    try:
        canonical = None if value is None else cp.canonical(ck, value, "--checkpoint")
    except cp.CheckpointError as e:
        raise FetchControlError(str(e)) from None
    request = ResetRequest(token=str(uuid.uuid4()), checkpoint=canonical)
    inp, _, _ = await current_input(client, handle)
    new_input = inp.model_copy(update={"reset": request})

    def update(u: ScheduleUpdateInput) -> ScheduleUpdate:
        # Only the action's input changes: spec, state and the rest stay as they are.
        schedule = u.description.schedule
        assert isinstance(schedule.action, ScheduleActionStartWorkflow)
        schedule.action.args = [new_input]
        return ScheduleUpdate(schedule=schedule)

    await handle.update(update)
    return request


async def pause(client: Client, name: str, note: str) -> None:
    await (await _schedule(client, name)).pause(note=note)


async def unpause(client: Client, name: str, note: str) -> None:
    await (await _schedule(client, name)).unpause(note=note)


async def backfill(client: Client, name: str, start: datetime, end: datetime) -> None:
    await (await _schedule(client, name)).backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.BUFFER_ALL)
    )


async def progress(run: WorkflowHandle[Any, Any], client: Client | None = None) -> FetchProgress:
    """The run's progress, or a FetchControlError that says no worker answered (and what to do).

    The workflow knows what the last completed activity applied; with `client`, the pages the
    running activity has committed since (its heartbeat) are added, so progress moves per page.
    """
    try:
        answer: FetchProgress = await ask(run, FetchWorkflow.progress)
    except NoAnswer as err:
        raise FetchControlError(str(err)) from None
    if client is not None and answer.status == "running":
        so_far = await _in_flight(client, run)
        if so_far is not None:
            answer.counts.add(so_far.counts)
            answer.position = so_far.next or answer.position
            answer.total = so_far.total if so_far.total is not None else answer.total
    return answer


async def _in_flight(client: Client, run: WorkflowHandle[Any, Any]) -> PageResult | None:
    try:
        desc = await run.describe()
        for pending in desc.raw_description.pending_activities:
            if pending.activity_type.name == "fetch_page" and pending.heartbeat_details.payloads:
                [so_far] = await client.data_converter.decode(
                    pending.heartbeat_details.payloads, [PageResult]
                )
                return so_far if isinstance(so_far, PageResult) else None
    except (RPCError, ValueError):
        return None  # progress without the running group's pages is still progress
    return None


@dataclass
class FetchStatus:
    name: str
    paused: bool
    note: str
    next_runs: list[datetime]
    running: FetchProgress | None = None
    running_id: str | None = None
    last: FetchRunResult | None = None
    last_id: str | None = None
    last_state: str | None = None
    unanswered: str | None = None  # why the running run's progress is unknown
    extra: dict[str, Any] = field(default_factory=dict)


async def status(client: Client, name: str) -> FetchStatus:
    handle = await _schedule(client, name)
    desc = await handle.describe()
    st = FetchStatus(
        name=name,
        paused=desc.schedule.state.paused,
        note=desc.schedule.state.note or "",
        next_runs=list(desc.info.next_action_times[:3]),
    )
    run = await running_run(client, name)
    if run is not None:
        st.running_id = run.id
        try:
            st.running = await progress(run, client)
        except FetchControlError as err:
            st.unanswered = str(err)
    previous = await last_run(client, name)
    if previous is not None and previous.id != st.running_id:
        d = await previous.describe()
        st.last_id = previous.id
        st.last_state = d.status.name if d.status else None
        if d.status == WorkflowExecutionStatus.COMPLETED:
            st.last = await previous.result()
    return st
