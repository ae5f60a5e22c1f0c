"""The durable event store: where Signal-flow events and their outcomes live.

A webhook's 2xx means its events are committed here. Temporal carries only offsets and parked
record keys; a delivery activity reads the next events of its shard from here, writes each
event's outcome back, and `explain`, the retry queue, insights and the dashboard read those
outcomes. One schema, two engines: SQLite (one file in the state directory, the embedded
default) and PostgreSQL (production: several receivers and workers on several machines),
selected by a URL (`EVENTSYNC_STORE`).
"""

from eventsync.store.models import (
    Decision,
    NewEvent,
    ParkedRecord,
    RetryState,
    Settlement,
    StoredEvent,
)
from eventsync.store.sql import EventStore, StoreUnavailable, default_url, open_store

__all__ = [
    "Decision",
    "EventStore",
    "NewEvent",
    "ParkedRecord",
    "RetryState",
    "Settlement",
    "StoreUnavailable",
    "StoredEvent",
    "default_url",
    "open_store",
]
