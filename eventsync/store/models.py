"""What goes in and out of the event store (plain dataclasses: the store is below Temporal)."""

from __future__ import annotations

from dataclasses import dataclass, field

PENDING = 0
SETTLED = 1


@dataclass(frozen=True)
class NewEvent:
    """One event routed to one flow shard, as the receiver appends it."""

    flow: str
    shard: int
    event_id: str
    record_key: str
    sequence: int
    payload: bytes  # the PlatformEvent as JSON (sealed when payload keys are configured)


@dataclass(frozen=True)
class StoredEvent:
    seq: int  # the store's own order: arrival order across the whole store
    flow: str
    shard: int
    event_id: str
    record_key: str
    sequence: int
    payload: bytes
    received_at: float


@dataclass(frozen=True)
class RetryState:
    """A record whose head event failed and will be tried again."""

    attempts: int
    first_failed_at: float
    not_before: float  # 0: no per-record wait (the shard's own pause may still apply)


@dataclass(frozen=True)
class ParkedRecord:
    flow: str
    shard: int
    record_key: str
    event_id: str
    reason: str
    attempts: int
    since: float
    held: int = 0  # later events of the record waiting behind it


@dataclass
class Decision:
    """One line of a record's story, what `explain` shows."""

    at: float
    flow: str
    record_key: str
    event_id: str
    event_type: str
    decision: str  # delivered skipped retrying parked waiting retried discarded held queued
    rule: str = ""
    status: int | None = None
    detail: str = ""
    by: str = ""
    vendor_id: str | None = None
    action: str | None = None


@dataclass
class Settlement:
    """Everything one delivered batch changes in the store, written in one transaction."""

    settled: list[tuple[int, str]] = field(default_factory=list)  # (seq, outcome)
    retry: dict[str, RetryState] = field(default_factory=dict)
    parked: dict[str, ParkedRecord] = field(default_factory=dict)
    cleared: set[str] = field(default_factory=set)  # records whose retry state ends (delivered)
    decisions: list[Decision] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    skipped_by: dict[str, int] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)  # record -> hash of the last body delivered
