"""The destination adapter protocol: what every destination plugs into the delivery path with.

An adapter turns a batch of activated events (each already rendered to a body by the flow's
mapping) into calls on a `ConnectionClient` (the shared HTTP core: auth, re-auth, error
classification) and answers one `ItemResult` per item, in any order:

- `ok`        delivered; `status`/`detail` say what the destination answered
- `retry`     not delivered, try again later (5xx, 429, timeouts); `retry_after_s` if known
- `rejected`  the destination will never take this record as it is: the record parks

An adapter never raises for one item's failure; it may raise HTTPCallError only when the whole
batch failed the same way before anything was sent (e.g. authentication), which the activity
maps to per-item results. Vendor adapters (Marketo, Eloqua, Salesforce, HubSpot) implement the
same protocol with their batch endpoints; `eventsync/destinations/registry.py` lists them all.

One retry policy: adapters classify (through the HTTP core) and answer once per item; the
shard schedules every retry and backoff (eventsync/flows/settle.py). An adapter does not loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from eventsync.definitions.flows import FlowDefinition
from eventsync.http import ConnectionClient, HTTPCallError

IDEMPOTENCY_HEADER = "Idempotency-Key"
BATCH_KEYS_HEADER = "X-Eventsync-Idempotency-Keys"  # batched webhooks: each record's key, in body order


@dataclass(frozen=True)
class Limits:
    """A destination kind's documented limits; the engine paces to these (zero 429s by design)."""

    batch_size: int  # records per destination call (1 = one call per record)
    max_concurrency: int  # calls in flight per worker
    calls_per_second: float | None  # None = unlimited


@dataclass(frozen=True)
class DeliveryItem:
    event_id: str
    record_key: str
    idempotency_key: str
    body: Any


@dataclass(frozen=True)
class ItemResult:
    event_id: str
    outcome: Literal["ok", "retry", "rejected"]
    status: int | None = None
    detail: str = ""
    retry_after_s: float | None = None
    vendor_id: str | None = None  # the destination's id of the record (lead id, contact id, ...)
    action: str | None = None  # what the destination did: created / updated / skipped
    # The whole account is out of quota (Marketo 607, HubSpot DAILY, Salesforce daily allocation):
    # the shard pauses every record until retry_after_s, without counting it as a failed attempt.
    wait: bool = False


class DestinationAdapter(Protocol):
    kind: str

    @property
    def limits(self) -> Limits: ...

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]: ...


def effective_limits(adapter: DestinationAdapter, flow: FlowDefinition) -> Limits:
    b = flow.batching
    d = adapter.limits
    return Limits(
        batch_size=b.batch_size or d.batch_size,
        max_concurrency=b.max_concurrency or d.max_concurrency,
        calls_per_second=b.calls_per_second or d.calls_per_second,
    )


def result_of_error(event_id: str, err: HTTPCallError) -> ItemResult:
    if err.retryable:
        return ItemResult(event_id, "retry", err.status, str(err), err.retry_after)
    return ItemResult(event_id, "rejected", err.status, str(err))


