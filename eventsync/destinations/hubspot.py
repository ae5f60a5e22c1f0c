"""HubSpot: contacts batch upsert (<= 100, idProperty email by default), paced to the app's burst
limit (100 requests / 10 s on Free/Starter, configurable per tier) (docs/destinations.md, HubSpot).

429 TEN_SECONDLY_ROLLING should not happen under our pacing; if another integration spends the same
limit, the pacer holds and the call is retried. 429 DAILY pauses the flow until the account's
midnight. Results come back in any order: they are matched to records by the idProperty value,
errors by `context.ids`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from eventsync.definitions.destinations import HubSpotDestination
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult, Limits
from eventsync.destinations.common import (
    chunks,
    error_results,
    fields_of,
    quota_wait,
    seconds_until_midnight,
    share_of,
    waves,
)
from eventsync.destinations.pacing import WindowPacer, window_pacer
from eventsync.http import ConnectionClient, HTTPCallError

WINDOW_S = 10.0
MAX_BATCH = 100
CONCURRENCY = 10  # HubSpot publishes no concurrency limit; this bounds our own sockets
PATH = "/crm/v3/objects/contacts/batch/upsert"


class HubSpotAdapter:
    kind = "hubspot"
    limits = Limits(batch_size=MAX_BATCH, max_concurrency=CONCURRENCY, calls_per_second=10.0)

    def __init__(self) -> None:
        self.throttled: Counter[str] = Counter()

    def pacer(self, flow: FlowDefinition, conn: ConnectionClient) -> WindowPacer:
        dest = flow.destination
        assert isinstance(dest, HubSpotDestination)
        calls = share_of(flow, dest.pacing.share, dest.burst_limit)
        if flow.batching.calls_per_second:
            calls = min(calls, max(1, int(flow.batching.calls_per_second * WINDOW_S)))
        conc = flow.batching.max_concurrency or CONCURRENCY
        return window_pacer(conn.name, calls, WINDOW_S, conc)

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, HubSpotDestination)
        pacer = self.pacer(flow, conn)
        size = min(MAX_BATCH, flow.batching.batch_size or MAX_BATCH)
        out: dict[str, ItemResult] = {}
        todo: list[DeliveryItem] = []
        for it in items:
            if fields_of(it).get(dest.id_property) in (None, ""):
                out[it.event_id] = ItemResult(
                    it.event_id, "rejected", None, f"id property {dest.id_property!r} has no value"
                )
            else:
                todo.append(it)

        def key(it: DeliveryItem) -> str:
            return self._norm(dest, fields_of(it)[dest.id_property])

        for wave in waves(todo, key):
            parts = await asyncio.gather(*(self._upsert(conn, pacer, dest, c) for c in chunks(wave, size)))
            for part in parts:
                out.update({r.event_id: r for r in part})
        return [out[i.event_id] for i in items]

    @staticmethod
    def _norm(dest: HubSpotDestination, value: Any) -> str:
        return str(value).lower() if dest.id_property == "email" else str(value)

    async def _upsert(
        self, conn: ConnectionClient, pacer: WindowPacer, dest: HubSpotDestination, chunk: list[DeliveryItem]
    ) -> list[ItemResult]:
        inputs = []
        for it in chunk:
            props = fields_of(it)
            key = props[dest.id_property]
            inputs.append({"idProperty": dest.id_property, "id": str(key), "properties": props})
        try:
            async with pacer.slot():
                resp = await conn.request("POST", PATH, json={"inputs": inputs})
        except HTTPCallError as err:
            if err.vendor_code == "DAILY":
                secs = seconds_until_midnight(dest.daily_reset_timezone)
                return quota_wait(chunk, err, secs, "HubSpot daily API limit reached")
            if err.status == 429:
                # Held here so this worker's other batches wait too; the shard retries this one.
                self.throttled[err.vendor_code or "429"] += 1
                pacer.hold(err.retry_after or 1.0)
            return error_results(chunk, err)
        doc = resp.json()
        by_key: dict[str, dict[str, Any]] = {}
        for res in doc.get("results") or []:
            props = res.get("properties") or {}
            if props.get(dest.id_property) is not None:
                by_key[self._norm(dest, props[dest.id_property])] = res
        errors: dict[str, str] = {}
        for e in doc.get("errors") or []:
            msgs = [f"{x.get('code')}: {x.get('message')}" for x in e.get("errors") or []] or [
                str(e.get("message"))
            ]
            for k in (e.get("context") or {}).get("ids") or []:
                errors[self._norm(dest, k)] = f"HubSpot {e.get('category')}: " + "; ".join(msgs)
        results = []
        for it in chunk:
            k = self._norm(dest, fields_of(it)[dest.id_property])
            if k in by_key:
                res = by_key[k]
                action = "created" if res.get("new") else "updated"
                vid = str(res.get("id"))
                results.append(
                    ItemResult(
                        it.event_id,
                        "ok",
                        resp.status_code,
                        f"contact {vid} {action}",
                        vendor_id=vid,
                        action=action,
                    )
                )
            elif k in errors:
                results.append(ItemResult(it.event_id, "rejected", resp.status_code, errors[k]))
            else:
                results.append(
                    ItemResult(
                        it.event_id, "retry", resp.status_code, "HubSpot returned no result for this record"
                    )
                )
        return results
