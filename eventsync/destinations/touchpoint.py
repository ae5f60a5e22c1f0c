"""The Touchpoint destination adapter: Touchpoint rides the Signal delivery path.

So registrants and sessions get exactly the Signal guarantees (per-record order in sharded
flow workflows, dedupe by event id, backoff, parking with retry/discard, `explain`), from the
same code. The flow has no mapping, so each item's body is the platform record itself.
"""

from __future__ import annotations

import asyncio
from typing import Any

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.destinations.base import DeliveryItem, ItemResult, Limits, result_of_error
from eventsync.http import ConnectionClient, ConnectionPool, HTTPCallError
from eventsync.platform.api import read_current
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.attendees import PlanError
from eventsync.touchpoint.sync import sync_record

_platform_pool: ConnectionPool | None = None


def _platform(conn: Connection) -> ConnectionClient:
    # The delivery path hands adapters their destination's client only; the platform client for
    # re-reads is pooled here, once per worker process, like the shared pool does.
    global _platform_pool
    if _platform_pool is None:
        _platform_pool = ConnectionPool()
    return _platform_pool.client(conn)


def gone(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """What a record that no longer exists on the platform syncs as: it leaves Touchpoint."""
    keep = ("registrationCode", "sessionCode", "eventId", "eventCode", "accountCode")
    return {**{k: record[k] for k in keep if k in record}, "isActive": False, "deleted": True, "tags": {}}


class TouchpointAdapter:
    kind = "touchpoint"

    @property
    def limits(self) -> Limits:
        # Each record costs a read and at most two writes; 8 records at a time keep Touchpoint calm.
        return Limits(batch_size=50, max_concurrency=8, calls_per_second=None)

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, TouchpointDestination)
        api = TouchpointAPI(conn)
        sem = asyncio.Semaphore(flow.batching.max_concurrency or self.limits.max_concurrency)

        async def one(item: DeliveryItem) -> ItemResult:
            # The flow has no mapping, so the body is the platform record itself.
            record: dict[str, Any] = dict(item.body or {})
            kind = "session" if item.record_key.startswith("session:") else "registration"
            async with sem:
                try:
                    if dest.reread_from is not None:
                        account = dest.account or str(record.get("accountCode") or "")
                        current = await read_current(_platform(dest.reread_from), account, kind, record)  # type: ignore[arg-type]
                        record = current if current is not None else gone(kind, record)
                    result = await sync_record(api, dest, kind, record)
                except PlanError as e:
                    return ItemResult(item.event_id, "rejected", None, str(e))
                except HTTPCallError as e:
                    return result_of_error(item.event_id, e)
            return ItemResult(item.event_id, "ok", 200, result.describe())

        return list(await asyncio.gather(*(one(i) for i in items)))
