"""The Touchpoint destination adapter: Touchpoint rides the Signal delivery path.

So registrants and sessions get exactly the Signal guarantees (per-record order in sharded
flow workflows, dedupe by event id, backoff, parking with retry/discard, `explain`), from the
same code. Each item's body is `{"type", "record"}` (see `eventsync.signal.decide.render`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from eventsync.definitions.flows import FlowDefinition
from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.http import ConnectionClient, HTTPCallError
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.attendees import PlanError
from eventsync.touchpoint.sync import sync_record

if TYPE_CHECKING:  # the Signal registry imports this module: no import back at load time
    from eventsync.signal.destinations import DeliveryItem, ItemResult, Limits


class TouchpointAdapter:
    kind = "touchpoint"

    @property
    def limits(self) -> Limits:
        from eventsync.signal.destinations import Limits

        # Each record costs a read and at most two writes; 8 records at a time keep Touchpoint calm.
        return Limits(batch_size=50, max_concurrency=8, calls_per_second=None)

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        from eventsync.signal.destinations import ItemResult, result_of_error

        dest = flow.destination
        assert isinstance(dest, TouchpointDestination)
        api = TouchpointAPI(conn)
        sem = asyncio.Semaphore(flow.batching.max_concurrency or self.limits.max_concurrency)

        async def one(item: DeliveryItem) -> ItemResult:
            body: Any = item.body
            kind = str(body.get("type", "")).split(".", 1)[0]
            async with sem:
                try:
                    result = await sync_record(api, dest, kind, body.get("record") or {})
                except PlanError as e:
                    return ItemResult(item.event_id, "rejected", None, str(e))
                except HTTPCallError as e:
                    return result_of_error(item.event_id, e)
            return ItemResult(item.event_id, "ok", 200, result.describe())

        return list(await asyncio.gather(*(one(i) for i in items)))
