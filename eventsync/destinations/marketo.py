"""Marketo: Sync Leads (createOrUpdate, 300 per call), then program member status and/or a
smart-campaign request, paced to 100 calls / 20 s and 10 concurrent (docs/destinations.md, Marketo).

Errors, as the issue asks: a skipped record (1xxx) parks that record only; 601/602 re-authenticate
in the HTTP core (MarketoRules); 606/615 should not happen under our pacing, are counted, hold the
pacer and are retried; 607 pauses the flow until the quota resets at 00:00 US Central; 604 and
timeouts split the batch and retry the halves.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from eventsync.definitions.destinations import MarketoDestination
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult, Limits
from eventsync.destinations.common import (
    chunks,
    error_results,
    fields_of,
    quota_wait,
    seconds_until_midnight,
    segment,
    share_of,
    status_text,
    value_of,
    waves,
)
from eventsync.destinations.pacing import WindowPacer, window_pacer
from eventsync.http import ConnectionClient, HTTPCallError

RATE_CALLS = 100
RATE_WINDOW_S = 20.0
CONCURRENCY = 10
MAX_BATCH = 300
MAX_TRIGGER = 100
QUOTA_TZ = "America/Chicago"  # the daily quota resets at 12:00 AM US Central


@dataclass
class _Rec:
    item: DeliveryItem
    lead_id: int | None = None
    action: str | None = None
    notes: list[str] = field(default_factory=list)
    failed: ItemResult | None = None


class MarketoAdapter:
    kind = "marketo"
    limits = Limits(
        batch_size=MAX_BATCH, max_concurrency=CONCURRENCY, calls_per_second=RATE_CALLS / RATE_WINDOW_S
    )

    def __init__(self) -> None:
        self.throttled: Counter[str] = Counter()  # 606 / 615 answers seen (should stay zero)

    def pacer(self, flow: FlowDefinition, conn: ConnectionClient) -> WindowPacer:
        dest = flow.destination
        assert isinstance(dest, MarketoDestination)
        share = dest.pacing.share
        calls = share_of(flow, share, RATE_CALLS)
        if flow.batching.calls_per_second:
            calls = min(calls, max(1, int(flow.batching.calls_per_second * RATE_WINDOW_S)))
        conc = flow.batching.max_concurrency or share_of(flow, share, CONCURRENCY)
        return window_pacer(conn.name, calls, RATE_WINDOW_S, min(conc, CONCURRENCY))

    async def _call(self, conn: ConnectionClient, pacer: WindowPacer, path: str, body: Any) -> Any:
        # A throttle answer (606 rate, 615 concurrency) holds this worker's pacer, so every other
        # batch waits too, and comes back as a retry: the shard schedules it (one retry policy).
        try:
            async with pacer.slot():
                resp = await conn.request("POST", path, json=body)
            return resp.json()
        except HTTPCallError as err:
            if err.vendor_code in ("606", "615"):
                self.throttled[err.vendor_code] += 1
                pacer.hold(2.0 if err.vendor_code == "615" else RATE_WINDOW_S / 4)
            raise

    def _failed(self, recs: list[_Rec], err: HTTPCallError, step: str) -> None:
        if err.vendor_code == "607":
            results = quota_wait(
                (r.item for r in recs),
                err,
                seconds_until_midnight(QUOTA_TZ),
                "Marketo daily API quota reached",
            )
        else:
            results = error_results((r.item for r in recs), err, prefix=f"{step}: ")
        for r, res in zip(recs, results, strict=True):
            r.failed = res

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, MarketoDestination)
        pacer = self.pacer(flow, conn)
        size = min(MAX_BATCH, flow.batching.batch_size or MAX_BATCH)
        recs = [_Rec(i) for i in items]
        todo: list[_Rec] = []
        for r in recs:
            key = fields_of(r.item).get(dest.lookup_field)
            if key in (None, ""):
                r.failed = ItemResult(
                    r.item.event_id, "rejected", None, f"lookup field {dest.lookup_field!r} has no value"
                )
            else:
                todo.append(r)

        def lookup(r: _Rec) -> str:
            v = str(fields_of(r.item)[dest.lookup_field])
            return v.lower() if dest.lookup_field == "email" else v

        for wave in waves(todo, lookup):
            await asyncio.gather(*(self._sync(conn, pacer, dest, c) for c in chunks(wave, size)))
        live = [r for r in recs if r.failed is None]
        if dest.program is not None and live:
            await self._program(conn, pacer, dest, live)
        live = [r for r in recs if r.failed is None]
        if dest.campaign is not None and live:
            await self._campaign(conn, pacer, live)
        return [self._result(r) for r in recs]

    def _result(self, r: _Rec) -> ItemResult:
        vid = None if r.lead_id is None else str(r.lead_id)
        if r.failed is not None:
            f = r.failed
            lead = f"lead {vid} {r.action}; " if vid else ""
            return ItemResult(
                f.event_id, f.outcome, f.status, lead + f.detail, f.retry_after_s, vid, r.action, f.wait
            )
        detail = "; ".join([f"lead {vid} {r.action}", *r.notes])
        return ItemResult(r.item.event_id, "ok", 200, detail, vendor_id=vid, action=r.action)

    async def _sync(
        self, conn: ConnectionClient, pacer: WindowPacer, dest: MarketoDestination, chunk: list[_Rec]
    ) -> None:
        body: dict[str, Any] = {
            "action": dest.action,
            "lookupField": dest.lookup_field,
            "input": [fields_of(r.item) for r in chunk],
        }
        if dest.partition_name:
            body["partitionName"] = dest.partition_name
        try:
            doc = await self._call(conn, pacer, "/rest/v1/leads.json", body)
        except HTTPCallError as err:
            timed_out = err.vendor_code == "604" or (err.status is None and "timed out" in str(err))
            if timed_out and len(chunk) > 1:
                # Marketo gives up after 30 s on a large batch; smaller ones finish.
                half = len(chunk) // 2
                await asyncio.gather(
                    self._sync(conn, pacer, dest, chunk[:half]), self._sync(conn, pacer, dest, chunk[half:])
                )
                return
            self._failed(chunk, err, "Sync Leads")
            return
        results = doc.get("result") or []
        for n, r in enumerate(chunk):
            res = results[n] if n < len(results) and isinstance(results[n], dict) else {}
            status = res.get("status")
            if status in ("created", "updated"):
                r.lead_id, r.action = int(res["id"]), status
                continue
            reasons = res.get("reasons") or [{"code": "?", "message": "no result for this record"}]
            why = "; ".join(f"Marketo {x.get('code')}: {x.get('message')}" for x in reasons)
            if res.get("id") is not None:
                r.lead_id = int(res["id"])
            r.action = "skipped"
            r.failed = ItemResult(r.item.event_id, "rejected", 200, why)

    async def _program(
        self, conn: ConnectionClient, pacer: WindowPacer, dest: MarketoDestination, live: list[_Rec]
    ) -> None:
        groups: dict[tuple[str, str], list[_Rec]] = {}
        for r in live:
            ref = value_of(r.item, "program.ref")
            status = status_text(value_of(r.item, "program.status"))
            if ref in (None, "") or status is None:
                r.notes.append("no program member status (program or status has no value)")
                continue
            groups.setdefault((str(ref), status), []).append(r)

        async def one(program: str, status: str, part: list[_Rec]) -> None:
            path = f"/rest/v1/programs/{segment(program)}/members/status.json"
            body = {"statusName": status, "input": [{"leadId": r.lead_id} for r in part]}
            try:
                doc = await self._call(conn, pacer, path, body)
            except HTTPCallError as err:
                self._failed(part, err, f"program {program} status {status!r}")
                return
            by_seq = {x.get("seq"): x for x in doc.get("result") or [] if isinstance(x, dict)}
            for n, r in enumerate(part):
                res = by_seq.get(n, {})
                if res.get("status") in ("created", "updated"):
                    r.notes.append(f"program {program} status {status} ({res['status']})")
                    continue
                reasons = res.get("reasons") or [{"code": "?", "message": "no result"}]
                if any(str(x.get("code")) == "1037" for x in reasons):
                    r.notes.append(f"program {program}: already in or past status {status}")
                    continue
                why = "; ".join(f"Marketo {x.get('code')}: {x.get('message')}" for x in reasons)
                r.failed = ItemResult(r.item.event_id, "rejected", 200, f"program {program}: {why}")

        await asyncio.gather(
            *(one(p, s, part) for (p, s), grp in groups.items() for part in chunks(grp, MAX_BATCH))
        )

    async def _campaign(self, conn: ConnectionClient, pacer: WindowPacer, live: list[_Rec]) -> None:
        groups: dict[str, list[_Rec]] = {}
        for r in live:
            ref = value_of(r.item, "campaign.ref")
            if ref in (None, ""):
                r.notes.append("no campaign request (campaign has no value)")
                continue
            groups.setdefault(str(ref), []).append(r)

        async def one(campaign: str, part: list[_Rec]) -> None:
            body = {"input": {"leads": [{"id": r.lead_id} for r in part]}}
            try:
                await self._call(conn, pacer, f"/rest/v1/campaigns/{segment(campaign)}/trigger.json", body)
            except HTTPCallError as err:
                self._failed(part, err, f"campaign {campaign} request")
                return
            for r in part:
                r.notes.append(f"campaign {campaign} requested")

        await asyncio.gather(
            *(one(c, part) for c, grp in groups.items() for part in chunks(grp, MAX_TRIGGER))
        )
