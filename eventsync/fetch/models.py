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
    key: str | None = Field(None, description="the record's match key, when the target names it")
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
    window: CheckpointValue | None = Field(None, description="checkpoint value the run's requests filter on")


class PageResult(BaseModel):
    next: Position | None = Field(description="None: that was the last page")
    high_water: CheckpointValue | None = Field(None, description="largest checkpoint value on the page")
    counts: Counts
