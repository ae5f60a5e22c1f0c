"""The Webhook and Advanced Webhook destinations: one request per record, or one per batch."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

from eventsync.definitions.flows import AdvancedWebhookDestination, FlowDefinition, WebhookDestination
from eventsync.destinations.base import (
    BATCH_KEYS_HEADER,
    IDEMPOTENCY_HEADER,
    DeliveryItem,
    ItemResult,
    Limits,
    effective_limits,
    result_of_error,
)
from eventsync.destinations.pacing import Pacer, pacer_for
from eventsync.http import ConnectionClient, HTTPCallError


class WebhookAdapter:
    """One request per record (flat or nested JSON body), concurrent up to the limit, paced; or,
    with `destination.batch`, one request per batch with a JSON array of the records' bodies."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.limits = Limits(batch_size=100, max_concurrency=16, calls_per_second=None)

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, WebhookDestination | AdvancedWebhookDestination)
        lim = effective_limits(self, flow)
        pacer = pacer_for(conn.name, lim.calls_per_second, lim.max_concurrency)
        if dest.batch:
            size = max(1, lim.batch_size)
            chunks = [items[i : i + size] for i in range(0, len(items), size)]
            done = await asyncio.gather(*(self._batch(flow, dest, conn, pacer, c) for c in chunks))
            return [r for rs in done for r in rs]

        async def one(item: DeliveryItem) -> ItemResult:
            headers = {
                IDEMPOTENCY_HEADER: item.idempotency_key,
                "X-Eventsync-Flow": flow.name,
                "X-Eventsync-Event-Id": item.event_id,
            }
            async with pacer.slot():
                try:
                    resp = await conn.request(dest.method, dest.path, json=item.body, headers=headers)
                except HTTPCallError as err:
                    return result_of_error(item.event_id, err)
            return ItemResult(item.event_id, "ok", resp.status_code, resp.text[:200])

        return list(await asyncio.gather(*(one(i) for i in items)))

    async def _batch(
        self,
        flow: FlowDefinition,
        dest: WebhookDestination | AdvancedWebhookDestination,
        conn: ConnectionClient,
        pacer: Pacer,
        items: list[DeliveryItem],
    ) -> list[ItemResult]:
        # The batch's key is derived from its items' keys: the activity retrying this very batch
        # sends the same key; each record's own key is listed, in body order, for finer dedupe.
        keys = [i.idempotency_key for i in items]
        headers = {
            IDEMPOTENCY_HEADER: hashlib.sha256(",".join(keys).encode()).hexdigest()[:32],
            BATCH_KEYS_HEADER: ",".join(keys),
            "X-Eventsync-Flow": flow.name,
        }
        async with pacer.slot():
            try:
                resp = await conn.request(
                    dest.method, dest.path, json=[i.body for i in items], headers=headers
                )
            except HTTPCallError as err:
                return [result_of_error(i.event_id, err) for i in items]
        return batch_results(items, resp.status_code, resp.text)


def batch_results(items: list[DeliveryItem], status: int, text: str) -> list[ItemResult]:
    """A 2xx answer to a batch delivers every record, unless it lists per-record results:
    `{"results": [{"index": i, "status": "ok" | "error", "code": <HTTP status>, "error": ...}]}`
    (what the sandbox webhook destination answers with 207); an error entry's code classifies
    that record (408/429/5xx retry, other codes reject, as for a single call)."""
    detail = text[:200]
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    listed = doc.get("results") if isinstance(doc, dict) else None
    if not isinstance(listed, list):
        return [ItemResult(i.event_id, "ok", status, detail) for i in items]
    errors: dict[int, dict[str, Any]] = {}
    for r in listed:
        if isinstance(r, dict) and isinstance(r.get("index"), int) and r.get("status") not in ("ok", None):
            errors[r["index"]] = r
    out = []
    for n, item in enumerate(items):
        err = errors.get(n)
        if err is None:
            out.append(ItemResult(item.event_id, "ok", status, detail))
            continue
        code = err.get("code") if isinstance(err.get("code"), int) else None
        why = str(err.get("error") or err.get("status"))[:200]
        retry = code is None or code in (408, 429) or code >= 500
        out.append(ItemResult(item.event_id, "retry" if retry else "rejected", code, why))
    return out


