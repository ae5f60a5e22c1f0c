"""What crosses the Temporal boundary for a fetch: small, record-free state and results."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from eventsync.definitions.fetches import FetchDefinition

CheckpointValue = str | int | float

MAX_REJECTIONS_KEPT = 50
# Identities of the records at the high-water mark, kept in the carry so that the next run skips
# them unless they changed. Past this many records sharing one value the list is dropped (they
# are applied again: safe, only not free).
MAX_BOUNDARY = 1000


class Position(BaseModel):
    """Where the next page is, per pagination style. `None` fields are unused by that style."""

    page: int | None = None
    offset: int | None = None
    cursor: str | None = None
    url: str | None = None
    # Safe mode (keyset): the next page starts at `keyset` and skips the `skip` records already read
    # that share that exact value.
    keyset: CheckpointValue | None = None
    skip: int = 0


class Rejection(BaseModel):
    key: str | None = Field(default=None, description="the record's match key, when the target names it")
    reason: str


class Counts(BaseModel):
    pages: int = 0
    fetched: int = 0
    applied: int = 0
    rejected: int = 0
    unchanged: int = Field(default=0, description="read again at the checkpoint, unchanged, not applied")
    rejections: list[Rejection] = Field(default_factory=list, description=f"the first {MAX_REJECTIONS_KEPT}")

    def add(self, other: Counts) -> None:
        self.pages += other.pages
        self.fetched += other.fetched
        self.applied += other.applied
        self.rejected += other.rejected
        self.unchanged += other.unchanged
        room = MAX_REJECTIONS_KEPT - len(self.rejections)
        if room > 0:
            self.rejections.extend(other.rejections[:room])


def _name_from_old_snapshot(data: Any) -> Any:
    """Inputs recorded before worker-side definitions carried the whole definition (and its
    connections): take the fetch's name from it, and ignore the rest. Never trusted."""
    if isinstance(data, dict) and not data.get("name"):
        old = data.get("definition")
        name = old.get("name") if isinstance(old, dict) else getattr(old, "name", None)
        if name:
            data = {**data, "name": name}
    return data


class PageInput(BaseModel):
    """One activity's work, by name: the worker resolves the fetch and its connections from its
    own definitions (activities/context.py), and checks `definition_hash` when it is set."""

    name: str
    definition_hash: str | None = Field(default=None, description="the definition this run runs")
    position: Position
    window: CheckpointValue | None = Field(
        default=None, description="checkpoint value the run's requests filter on"
    )
    max_pages: int = Field(default=1, ge=1, description="pages to read and apply in a row, at most")
    budget_s: float | None = Field(
        default=None, description="start no further page after this many seconds (the run time limit)"
    )
    skip: list[str] = Field(
        default_factory=list,
        description="identities of records at `window` already applied: skipped unless changed",
    )

    @model_validator(mode="before")
    @classmethod
    def _old_snapshot(cls, data: Any) -> Any:
        return _name_from_old_snapshot(data)


class PageResult(BaseModel):
    """The outcome of one activity: one page, or several read and applied in a row."""

    next: Position | None = Field(description="None: that was the last page")
    high_water: CheckpointValue | None = Field(
        default=None, description="largest checkpoint value on the page(s)"
    )
    counts: Counts
    total: int | None = Field(default=None, description="records the source says it holds (`total_path`)")
    boundary: list[str] = Field(default_factory=list, description="identities of the records at `high_water`")


class ResetRequest(BaseModel):
    """Set by `eventsync fetch reset`: the next run starts from `checkpoint` (None: the initial
    value). `token` makes it apply once: a run records the token it consumed."""

    token: str
    checkpoint: CheckpointValue | None = None


class Carry(BaseModel):
    """What one run hands the next (the workflow's result, read back as the schedule's last
    completion result)."""

    checkpoint: CheckpointValue | None = Field(default=None, description="committed high-water mark")
    resume: Position | None = Field(
        default=None, description="an unsorted source's pagination stopped mid-way: the next run continues it"
    )
    resume_window: CheckpointValue | None = None
    pending_high: CheckpointValue | None = Field(
        default=None, description="high-water mark of the pages already read in the unfinished pagination"
    )
    reset_token: str | None = None
    boundary: list[str] = Field(default_factory=list, description="identities of the records at `checkpoint`")
    pending_boundary: list[str] = Field(default_factory=list)


class DefinitionChange(BaseModel):
    """A resume that picked up a changed definition: recorded in the run's state and shown."""

    previous: str | None
    current: str


class RunState(BaseModel):
    """A run's durable state (carried across continue-as-new)."""

    carry: Carry
    position: Position
    window: CheckpointValue | None = None
    counts: Counts = Field(default_factory=Counts)
    started_at: str = Field(description="ISO-8601 time the run started (for the run time limit)")
    continued: int = 0
    total: int | None = None
    skip: list[str] = Field(
        default_factory=list, description="the boundary of `window`, skipped if unchanged"
    )
    definition_changes: list[DefinitionChange] = Field(default_factory=list)


class FetchRunInput(BaseModel):
    """A run names its fetch and pins the definition's content hash (set by `eventsync apply`);
    the worker resolves the definition and its connections from its own definitions and refuses
    a run whose pinned hash differs (docs/fetch.md, "Definitions and resume")."""

    name: str
    definition_hash: str | None = None
    reset: ResetRequest | None = None
    state: RunState | None = None
    # Recorded histories and schedules from before worker-side definitions carry the definition
    # itself; a replay of such a run reads its limits from here. Never used to reach a source.
    definition: FetchDefinition | None = None
    connections: list[Any] | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _old_snapshot(cls, data: Any) -> Any:
        return _name_from_old_snapshot(data)


class ResolvedFetch(BaseModel):
    """The worker's definition of a fetch and its content hash (the `fetch_definition` activity)."""

    definition: FetchDefinition
    definition_hash: str


class FetchRunResult(BaseModel):
    status: str = Field(description="done | time_limit | max_pages | cancelled")
    carry: Carry
    counts: Counts
    last_error: str | None = None
    started_at: str | None = None
    definition_hash: str | None = None
    definition_changes: list[DefinitionChange] = Field(default_factory=list)


class FetchProgress(BaseModel):
    name: str
    status: str
    definition_hash: str | None = None
    definition_changes: list[DefinitionChange] = Field(default_factory=list)
    checkpoint: CheckpointValue | None
    window: CheckpointValue | None
    position: Position
    counts: Counts
    last_error: str | None
    started_at: str
    total: int | None = None
