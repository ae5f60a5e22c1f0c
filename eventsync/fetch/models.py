"""What crosses the Temporal boundary for a fetch: small, record-free state and results."""

from __future__ import annotations

from pydantic import BaseModel, Field

from eventsync.definitions.connections import Connection
from eventsync.definitions.fetches import FetchDefinition

CheckpointValue = str | int | float

MAX_REJECTIONS_KEPT = 50


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
    rejections: list[Rejection] = Field(default_factory=list, description=f"the first {MAX_REJECTIONS_KEPT}")

    def add(self, other: Counts) -> None:
        self.pages += other.pages
        self.fetched += other.fetched
        self.applied += other.applied
        self.rejected += other.rejected
        room = MAX_REJECTIONS_KEPT - len(self.rejections)
        if room > 0:
            self.rejections.extend(other.rejections[:room])


class PageInput(BaseModel):
    """One page's work. Connections carry secret *references*; they are resolved in the activity."""

    definition: FetchDefinition
    connections: list[Connection]
    position: Position
    window: CheckpointValue | None = Field(
        default=None, description="checkpoint value the run's requests filter on"
    )
    max_pages: int = Field(default=1, ge=1, description="pages to read and apply in a row, at most")
    budget_s: float | None = Field(
        default=None, description="start no further page after this many seconds (the run time limit)"
    )


class PageResult(BaseModel):
    """The outcome of one activity: one page, or several read and applied in a row."""

    next: Position | None = Field(description="None: that was the last page")
    high_water: CheckpointValue | None = Field(
        default=None, description="largest checkpoint value on the page(s)"
    )
    counts: Counts


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


class RunState(BaseModel):
    """A run's durable state (carried across continue-as-new)."""

    carry: Carry
    position: Position
    window: CheckpointValue | None = None
    counts: Counts = Field(default_factory=Counts)
    started_at: str = Field(description="ISO-8601 time the run started (for the run time limit)")
    continued: int = 0


class FetchRunInput(BaseModel):
    """A snapshot of the definition (and the connections it names, secret references only)."""

    definition: FetchDefinition
    connections: list[Connection]
    reset: ResetRequest | None = None
    state: RunState | None = None


class FetchRunResult(BaseModel):
    status: str = Field(description="done | time_limit | max_pages | cancelled")
    carry: Carry
    counts: Counts
    last_error: str | None = None
    started_at: str | None = None


class FetchProgress(BaseModel):
    name: str
    status: str
    checkpoint: CheckpointValue | None
    window: CheckpointValue | None
    position: Position
    counts: Counts
    last_error: str | None
    started_at: str
