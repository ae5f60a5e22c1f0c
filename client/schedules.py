"""Temporal Schedules for API Fetch: one schedule per fetch, reconciled with the definitions.

Every fetch gets a schedule, also one without a `schedule:` (then it is paused with no times,
and `eventsync fetch run` triggers it): all runs of a fetch go through its schedule, so the
schedule's overlap policy keeps one run at a time, and each run reads where the previous one
ended from the schedule's last completion result.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError, RPCStatusCode

from activities.context import content_hash
from eventsync.definitions import Definitions
from eventsync.definitions.fetches import FetchDefinition, HttpTarget, PlatformBulkUpsert
from eventsync.fetch.models import FetchRunInput, ResetRequest
from worker.registry import TASK_QUEUE
from workflows import search_attributes as sa
from workflows.fetch import FetchWorkflow, schedule_id, workflow_id_prefix

SCHEDULE_PREFIX = "fetch:"
MANUAL_NOTE = "manual only: no schedule in the definition; `eventsync fetch run` triggers it"


def run_input(defs: Definitions, fetch: FetchDefinition, reset: ResetRequest | None = None) -> FetchRunInput:
    """What a run starts from: the fetch's name and its definition's content hash. The worker
    resolves the definition and its connections from its own definitions and checks the hash
    (docs/fetch.md, "Definitions and resume"); no base URL or secret reference travels."""
    names = [fetch.request.connection, fetch.target.connection]
    names += [lk.connection for lk in fetch.lookups if lk.connection]
    for n in dict.fromkeys(names):
        defs.connection(n)  # an unknown connection is an error now, not a parked run later
    return FetchRunInput(name=fetch.name, definition_hash=content_hash(fetch), reset=reset)


def _spec(fetch: FetchDefinition) -> ScheduleSpec:
    s = fetch.schedule
    if s is None:
        return ScheduleSpec()
    return ScheduleSpec(
        cron_expressions=[s.cron] if s.cron else [],
        intervals=[ScheduleIntervalSpec(every=timedelta(seconds=s.every_s))] if s.every_s else [],
        time_zone_name=s.time_zone,
        jitter=timedelta(seconds=s.jitter_s) if s.jitter_s else None,
    )


def build_schedule(
    fetch: FetchDefinition, inp: FetchRunInput, task_queue: str, state: ScheduleState | None = None
) -> Schedule:
    attrs = [
        SearchAttributePair(sa.KIND, "fetch"),
        SearchAttributePair(sa.NAME, fetch.name),
    ]
    target = fetch.target
    if isinstance(target, PlatformBulkUpsert):
        attrs += [
            SearchAttributePair(sa.ACCOUNT, target.account),
            SearchAttributePair(sa.EVENT, target.event),
        ]
    if state is None:
        manual = fetch.schedule is None
        state = ScheduleState(
            paused=manual or bool(fetch.schedule and fetch.schedule.paused),
            note=MANUAL_NOTE if manual else "created by eventsync apply",
        )
    return Schedule(
        action=ScheduleActionStartWorkflow(
            FetchWorkflow.run,
            inp,
            id=workflow_id_prefix(fetch.name),
            task_queue=task_queue,
            typed_search_attributes=TypedSearchAttributes(attrs),
            memo={"summary": f"fetch {fetch.name} into {_target_text(target)}"},
        ),
        spec=_spec(fetch),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=state,
    )


def _target_text(target: PlatformBulkUpsert | HttpTarget) -> str:
    if isinstance(target, PlatformBulkUpsert):
        return f"platform event {target.account}/{target.event} (bulk upsert by {target.match_key})"
    return f"{target.method} {target.connection}{target.path}"


async def current_input(client: Client, handle: ScheduleHandle) -> tuple[FetchRunInput, ScheduleState, str]:
    desc = await handle.describe()
    action = desc.schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    [inp] = await client.data_converter.decode(action.args, [FetchRunInput])  # type: ignore[arg-type]
    return inp, desc.schedule.state, action.task_queue


async def put_schedule(
    client: Client, fetch: FetchDefinition, inp: FetchRunInput, task_queue: str = TASK_QUEUE
) -> str:
    """Create or update the fetch's schedule; returns what happened ("created", "updated",
    "unchanged"). An operator's pause/unpause and a pending reset survive an update."""
    sid = schedule_id(fetch.name)
    handle = client.get_schedule_handle(sid)
    try:
        existing, state, queue = await current_input(client, handle)
    except RPCError as e:
        if e.status != RPCStatusCode.NOT_FOUND:
            raise
        await client.create_schedule(sid, build_schedule(fetch, inp, task_queue))
        return "created"
    if inp.reset is None:
        inp = inp.model_copy(update={"reset": existing.reset})
    if existing == inp and queue == task_queue:
        return "unchanged"
    # The operator's pause/unpause stands, except where "paused" only meant "no schedule defined".
    was_manual = state.note == MANUAL_NOTE
    is_manual = fetch.schedule is None
    new = build_schedule(fetch, inp, task_queue, None if was_manual != is_manual else state)

    def update(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=new)

    await handle.update(update)
    return "updated"


async def reconcile_fetch_schedules(
    client: Client, definitions: Definitions, *, task_queue: str = TASK_QUEUE
) -> list[str]:
    """One schedule per fetch: create the missing, update the changed, delete the removed."""
    changes: list[str] = []
    wanted = {schedule_id(f.name): f for f in definitions.fetches}
    for sid, fetch in wanted.items():
        what = await put_schedule(client, fetch, run_input(definitions, fetch), task_queue)
        if what != "unchanged":
            changes.append(f"fetch {fetch.name}: schedule {sid} {what}")
    async for listed in await client.list_schedules():
        if listed.id.startswith(SCHEDULE_PREFIX) and listed.id not in wanted:
            await client.get_schedule_handle(listed.id).delete()
            changes.append(f"fetch {listed.id.removeprefix(SCHEDULE_PREFIX)}: schedule {listed.id} deleted")
    return changes
