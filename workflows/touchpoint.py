"""Touchpoint reprocess: page through an event's sessions and/or registrants, re-sync each.

The workflow holds only the checkpoint (phase and next offset) and counts; records live and
die inside the page activity. A worker crash loses at most the page in flight, which is redone
(idempotent: its synced records read as unchanged). A permanent failure (bad credentials, an
unknown event) parks the run, visibly, until `resume`. Progress: the `progress` query, the memo
`progress` line, and search attributes (EventsyncKind=touchpoint, EventsyncStatus).

The input names the touchpoint definition (and the account it is for) and may pin its content
hash; the definition and its two connections come from the worker's own definitions, in each
activity (activities/touchpoint.py), never from the input. Inputs of the shape written before
that (a whole definition and two connections) still decode, reduced to their names, so that old
runs replay and continue; what they carried is never resolved. The command sequence is the same
for both shapes, so no `workflow.patched` marker is needed. A resume after a park takes the
worker's current definition (as an API Fetch resume does); each change is recorded in `progress`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.context import DEFINITION_CHANGED, UNKNOWN_NAME
    from activities.touchpoint import (
        EVENT_NOT_FOUND,
        KIND_NOT_SYNCED,
        PageInput,
        PageResult,
        ResolvedEvent,
        ResolveInput,
        names_only,
        page,
        resolve,
    )
    from eventsync.platform.api import Kind
    from workflows import search_attributes as sa
    from workflows.parking import Parking, reason_of

ALL_KINDS: tuple[Kind, ...] = ("sessions", "registrants")
PAGES_PER_RUN = 100
MAX_PROBLEMS = 100
NON_RETRYABLE = [
    "PermanentHTTPError",
    "AuthenticationFailed",
    "MissingSecret",
    EVENT_NOT_FOUND,
    UNKNOWN_NAME,
    DEFINITION_CHANGED,
    KIND_NOT_SYNCED,
]


def workflow_id(account: str, event: str) -> str:
    return f"touchpoint-reprocess/{account}/{event}"


class ReprocessProgress(BaseModel):
    event: ResolvedEvent | None = None
    phase: int = 0  # index into ReprocessInput.kinds
    start: int = 0  # checkpoint: next record offset in the current phase
    pages: int = 0
    read: dict[str, int] = Field(default_factory=dict)
    totals: dict[str, int] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    problems: list[str] = Field(default_factory=list)
    status: Literal["running", "parked", "done"] = "running"
    parked_reason: str | None = None
    runs: int = 1
    definition_hash: str | None = None  # the worker's definition this run runs (pinned, then as resumed)
    definition_changes: list[str] = Field(default_factory=list)  # "old -> new", one per resume that changed it

    def line(self, kinds: list[Kind]) -> str:
        parts = [f"{k} {self.read.get(k, 0)}/{self.totals.get(k, '?')}" for k in kinds]
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        text = f"{self.status}: " + " · ".join(parts) + (f" ({counts})" if counts else "")
        if self.parked_reason:
            text += f"; parked: {self.parked_reason}"
        return text


class ReprocessInput(BaseModel):
    name: str  # the worker's touchpoint definition, by name
    account: str  # the platform account it is for (checked against the worker's definition)
    event: str  # as the operator gave it: stable id (digits) or code
    kinds: list[Kind] = Field(default_factory=lambda: list(ALL_KINDS), min_length=1)
    since: str | None = None
    definition_hash: str | None = None  # pins the definition: a worker with another one parks the run
    progress: ReprocessProgress | None = None

    _legacy = model_validator(mode="before")(names_only)


class ResumeRequest(BaseModel):
    by: str = ""


@workflow.defn(name="TouchpointReprocess")
class TouchpointReprocessWorkflow:
    @workflow.init
    def __init__(self, inp: ReprocessInput) -> None:
        self.inp = inp
        self.p = inp.progress or ReprocessProgress(definition_hash=inp.definition_hash)
        self.pinned = self.p.definition_hash  # what the next activity must find on the worker
        self.parking = Parking()

    @workflow.query(name="progress")
    def progress(self) -> ReprocessProgress:
        return self.p

    @workflow.signal(name="resume")
    def on_resume(self, _req: ResumeRequest) -> None:
        self.parking.resume()

    def _show(self) -> None:
        workflow.upsert_memo({"progress": self.p.line(self.inp.kinds)})

    def _shown(self, status: str) -> None:
        self.p.status = "parked" if status == "parked" else "running"
        self.p.parked_reason = self.parking.reason if status == "parked" else None
        workflow.upsert_search_attributes([sa.STATUS.value_set(self.p.status)])
        self._show()

    async def _park(self, err: ActivityError) -> None:
        # The same park/resume as an API Fetch run (workflows/parking.py).
        await self.parking.park(reason_of(err), self._shown)
        # The operator fixed what parked the run (perhaps the definition): run what the worker
        # has now, and record it if it differs (`_ran_with`).
        self.pinned = None

    def _ran_with(self, current: str | None) -> None:
        """The definition hash an activity ran with: pinned from now on; a change is recorded."""
        if current is None:
            return
        previous = self.p.definition_hash
        if previous is not None and previous != current:
            self.p.definition_changes.append(f"{previous} -> {current}")
            workflow.logger.info("touchpoint reprocess: resumed with definition %s (was %s)", current, previous)
        self.p.definition_hash = current
        self.pinned = current

    @workflow.run
    async def run(self, inp: ReprocessInput) -> ReprocessProgress:
        event_key = str(self.p.event.event_id) if self.p.event else inp.event
        workflow.upsert_search_attributes(
            [
                sa.KIND.value_set("touchpoint"),
                sa.NAME.value_set(inp.name),
                sa.ACCOUNT.value_set(inp.account),
                sa.EVENT.value_set(event_key),
                sa.STATUS.value_set("running"),
            ]
        )
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=1),
            maximum_interval=timedelta(seconds=30),
            non_retryable_error_types=NON_RETRYABLE,
        )
        while self.p.event is None:
            try:
                ev: ResolvedEvent = await workflow.execute_activity(
                    resolve,
                    ResolveInput(name=inp.name, account=inp.account, event=inp.event, pinned=self.pinned),
                    start_to_close_timeout=timedelta(seconds=60),
                    retry_policy=retry,
                )
            except ActivityError as err:
                await self._park(err)
                continue
            self._ran_with(ev.definition_hash)
            self.p.event = ev.model_copy(update={"definition_hash": None})
        workflow.upsert_search_attributes([sa.EVENT.value_set(str(self.p.event.event_id))])
        self._show()
        pages_this_run = 0
        while self.p.phase < len(inp.kinds):
            kind = inp.kinds[self.p.phase]
            try:
                r: PageResult = await workflow.execute_activity(
                    page,
                    PageInput(
                        name=inp.name,
                        account=inp.account,
                        event=self.p.event,
                        kind=kind,
                        start=self.p.start,
                        since=inp.since,
                        pinned=self.pinned,
                    ),
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(seconds=5),
                    retry_policy=retry,
                )
            except ActivityError as err:
                await self._park(err)
                continue
            self._ran_with(r.definition_hash)
            self.p.pages += 1
            pages_this_run += 1
            self.p.read[kind] = self.p.read.get(kind, 0) + r.read
            self.p.totals[kind] = r.total if r.next_start is not None else self.p.read[kind]
            for k, v in r.counts.items():
                self.p.counts[k] = self.p.counts.get(k, 0) + v
            room = MAX_PROBLEMS - len(self.p.problems)
            if room > 0:
                self.p.problems += r.problems[:room]
            if r.event_code != self.p.event.event_code:
                self.p.event = ResolvedEvent(
                    event_id=self.p.event.event_id, event_code=r.event_code, name=self.p.event.name
                )
            if r.next_start is None:
                self.p.phase += 1
                self.p.start = 0
            else:
                self.p.start = r.next_start
            self._show()
            if self.p.phase < len(inp.kinds) and (
                pages_this_run >= PAGES_PER_RUN or workflow.info().is_continue_as_new_suggested()
            ):
                await workflow.wait_condition(workflow.all_handlers_finished)
                self.p.runs += 1
                workflow.continue_as_new(inp.model_copy(update={"progress": self.p}))
        self.p.status = "done"
        workflow.upsert_search_attributes([sa.STATUS.value_set("done")])
        self._show()
        return self.p
