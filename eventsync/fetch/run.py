"""One API Fetch run as plain, deterministic state (like a Signal shard's `ShardState`): it takes
the outcome of each page group and answers what the run does next — fetch the next group, park,
or end (done, time limit, page limit) — and commits the checkpoint as pages land.

No Temporal here: `workflows/fetch.py` drives it (activities, timers, signals, continue-as-new),
and tests drive it directly. Time comes in as arguments, so that a replay sees the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from eventsync.definitions.fetches import Checkpoint, FetchDefinition
from eventsync.fetch import checkpoint as cp
from eventsync.fetch.models import (
    MAX_BOUNDARY,
    Carry,
    CheckpointValue,
    Counts,
    DefinitionChange,
    FetchRunResult,
    PageResult,
    ResetRequest,
    RunState,
)
from eventsync.fetch.pagination import first_position

Next = Literal["fetch", "time_limit", "max_pages"]
Landed = Literal["continue", "done"]
Status = Literal["running", "parked", "done", "time_limit", "max_pages", "cancelled"]


def later_with_boundary(
    ck: Checkpoint,
    a: CheckpointValue | None,
    a_ids: list[str],
    b: CheckpointValue | None,
    b_ids: list[str],
) -> tuple[CheckpointValue | None, list[str]]:
    """The later of two high-water marks, with the identities of the records at it: a higher
    value replaces them, an equal one adds to them. Capped at MAX_BOUNDARY: a record left out
    is only applied again, never skipped."""
    if b is None:
        return a, a_ids
    if a is None:
        return b, list(b_ids[:MAX_BOUNDARY])
    ka, kb = cp.sort_key(ck, a), cp.sort_key(ck, b)
    if kb > ka:
        return b, list(b_ids[:MAX_BOUNDARY])
    if kb == ka:
        merged = list(dict.fromkeys([*a_ids, *b_ids]))
        return a, merged[:MAX_BOUNDARY]
    return a, a_ids


def merge_boundary(
    defn: FetchDefinition, result: PageResult, value: CheckpointValue | None, ids: list[str]
) -> None:
    """Fold one page's top value and its records' identities into a group's result."""
    assert defn.checkpoint is not None
    result.high_water, result.boundary = later_with_boundary(
        defn.checkpoint, result.high_water, result.boundary, value, ids
    )


def wholesale_rejection(counts: Counts) -> str | None:
    """Why a page must park the run: the target took none of its records (a wrong Jolt spec or
    target, not a few bad records). None: the page stands."""
    if counts.fetched and counts.applied == 0 and counts.rejected:
        first = counts.rejections[0].reason if counts.rejections else "rejected"
        return f"target rejected every record of the page ({counts.rejected}); first reason: {first}"
    return None


@dataclass
class Group:
    """The next activity's work: at most `pages` pages, starting none after `budget_s`."""

    pages: int
    budget_s: float


class FetchRun:
    def __init__(self, defn: FetchDefinition, state: RunState, slice_s: float = 10.0) -> None:
        self.defn = defn
        self.state = state
        self.slice_s = slice_s
        self.status: Status = "running"
        self.last_error: str | None = None

    @classmethod
    def begin(
        cls,
        defn: FetchDefinition,
        *,
        now: datetime,
        last: FetchRunResult | None = None,
        reset: ResetRequest | None = None,
        slice_s: float = 10.0,
    ) -> FetchRun:
        """A new run: from the previous run's carry, unless an operator's reset (applied once,
        by its token) says otherwise."""
        carry = Carry() if last is None else last.carry.model_copy(deep=True)
        if reset is not None and carry.reset_token != reset.token:
            carry = Carry(checkpoint=reset.checkpoint, reset_token=reset.token)
        if defn.checkpoint is None:
            carry.checkpoint = carry.pending_high = carry.resume_window = None
        if defn.checkpoint is None:
            carry.boundary, carry.pending_boundary = [], []
        if carry.resume is not None:
            position, window = carry.resume, carry.resume_window
        else:
            position, window = first_position(defn), carry.checkpoint
        # The records at the window that the last run applied are read again (a tie is never
        # skipped by the filter) but not applied again unless they changed.
        skip = list(carry.boundary) if window is not None and window == carry.checkpoint else []
        state = RunState(carry=carry, position=position, window=window, started_at=now.isoformat(), skip=skip)
        return cls(defn, state, slice_s)

    def _elapsed(self, now: datetime) -> float:
        return (now - datetime.fromisoformat(self.state.started_at)).total_seconds()

    def next(self, now: datetime) -> Next:
        limits = self.defn.limits
        if limits.run_time_limit_s is not None and self._elapsed(now) >= limits.run_time_limit_s:
            return "time_limit"
        if limits.max_pages is not None and self.state.counts.pages >= limits.max_pages:
            return "max_pages"
        return "fetch"

    def group(self, now: datetime) -> Group:
        """The next group: `pages_per_activity` pages (fewer before `max_pages`), none started
        after the slice or the run time limit. The slice bounds how stale the workflow's own
        state gets; progress shown to operators adds the group's heartbeat, page by page."""
        limits = self.defn.limits
        pages = limits.pages_per_activity
        if limits.max_pages is not None:
            pages = min(pages, limits.max_pages - self.state.counts.pages)
        budget = self.slice_s
        if limits.run_time_limit_s is not None:
            budget = max(0.0, min(budget, limits.run_time_limit_s - self._elapsed(now)))
        return Group(pages=max(1, pages), budget_s=budget)

    def landed(self, result: PageResult) -> Landed:
        """Commit what a group applied: counts, and the checkpoint (a sorted source moves it at
        once; an unsorted one holds it as pending until the pagination finishes)."""
        st = self.state
        st.counts.add(result.counts)
        if result.total is not None:
            st.total = result.total
        ck, carry = self.defn.checkpoint, st.carry
        if ck is not None and result.high_water is not None:
            if ck.sorted:
                carry.checkpoint, carry.boundary = later_with_boundary(
                    ck, carry.checkpoint, carry.boundary, result.high_water, result.boundary
                )
            else:
                carry.pending_high, carry.pending_boundary = later_with_boundary(
                    ck, carry.pending_high, carry.pending_boundary, result.high_water, result.boundary
                )
        if result.next is None:
            return "done"
        st.position = result.next
        return "continue"

    def park(self, reason: str) -> None:
        """A permanent failure: the run waits, position and checkpoint kept, until resumed."""
        self.status = "parked"
        self.last_error = reason

    def resume(
        self, defn: FetchDefinition | None = None, previous: str | None = None, current: str | None = None
    ) -> None:
        """Back to running; the parked group is fetched again from the same position, with the
        definition the operator fixed when one is given (recorded as a change of hash)."""
        self.status = "running"
        if defn is not None:
            self.defn = defn
        if current is not None and previous is not None and current != previous:
            self.state.definition_changes.append(DefinitionChange(previous=previous, current=current))

    def finish(self, status: Status, definition_hash: str | None = None) -> FetchRunResult:
        """End the run; what the next run starts from goes into the carry."""
        st, ck = self.state, self.defn.checkpoint
        carry = st.carry
        if status == "done" or ck is None:
            if ck is not None:
                carry.checkpoint, carry.boundary = later_with_boundary(
                    ck, carry.checkpoint, carry.boundary, carry.pending_high, carry.pending_boundary
                )
            carry.resume = carry.resume_window = carry.pending_high = None
            carry.pending_boundary = []
        elif not ck.sorted:
            # The pagination is unfinished and the source unsorted: a later page may still hold
            # older values, so the checkpoint cannot move yet; the next run continues this pass.
            carry.resume, carry.resume_window = st.position, st.window
        self.status = status
        return FetchRunResult(
            status=status,
            carry=carry,
            counts=st.counts,
            last_error=self.last_error,
            started_at=st.started_at,
            definition_hash=definition_hash,
            definition_changes=list(st.definition_changes),
        )
