"""Salesforce: Lead or Contact upsert by external ID through sObject Collections (<= 200,
allOrNone false), then CampaignMember create-or-update with a status (docs/destinations.md, Salesforce).

CampaignMembers are upserted by their own external ID ('<campaign id>:<person id>') in a second
collections call, so a status change is one call per 200 records, not a query and a PATCH each.
INVALID_SESSION_ID re-authenticates in the HTTP core (a 401). REQUEST_LIMIT_EXCEEDED for the
rolling 24 h allocation pauses the flow (no Retry-After exists; we retry after an hour); the
concurrent long-running limit backs the records off. UNABLE_TO_LOCK_ROW is retried.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from eventsync.definitions.destinations import SalesforceDestination
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult, Limits
from eventsync.destinations.common import (
    chunks,
    error_results,
    fields_of,
    final_result,
    quota_wait,
    segment,
    status_text,
    value_of,
    waves,
)
from eventsync.destinations.pacing import Pacer, pacer_for
from eventsync.http import ConnectionClient, HTTPCallError

MAX_BATCH = 200
# Short requests have no concurrency limit; 25 long-running (>= 20 s) are allowed. 10 keeps us far
# below that even if every call were slow.
CONCURRENCY = 10
RETRYABLE_RECORD_CODES = {"UNABLE_TO_LOCK_ROW"}
ALLOCATION_WAIT_S = 3600.0


@dataclass
class _Rec:
    item: DeliveryItem
    sf_id: str | None = None
    action: str | None = None
    notes: list[str] = field(default_factory=list)
    failed: ItemResult | None = None


def _errors(res: dict[str, Any]) -> tuple[str, bool]:
    errs = res.get("errors") or []
    text = "; ".join(f"{e.get('statusCode')}: {e.get('message')}" for e in errs) or "no result"
    retry = any(e.get("statusCode") in RETRYABLE_RECORD_CODES for e in errs)
    return text, retry


class SalesforceAdapter:
    kind = "salesforce"
    limits = Limits(batch_size=MAX_BATCH, max_concurrency=CONCURRENCY, calls_per_second=None)

    def pacer(self, flow: FlowDefinition, conn: ConnectionClient) -> Pacer:
        dest = flow.destination
        assert isinstance(dest, SalesforceDestination)
        conc = flow.batching.max_concurrency or max(1, int(CONCURRENCY * dest.pacing.share))
        return pacer_for(conn.name, flow.batching.calls_per_second, conc)

    def _failed(self, recs: list[_Rec], err: HTTPCallError, step: str) -> None:
        if err.vendor_code == "REQUEST_LIMIT_EXCEEDED" and "TotalRequests" in str(err):
            results = quota_wait(
                (r.item for r in recs), err, ALLOCATION_WAIT_S, "Salesforce 24 h API allocation used up"
            )
        else:
            results = error_results((r.item for r in recs), err, prefix=f"{step}: ")
        for r, res in zip(recs, results, strict=True):
            r.failed = res

    async def _collection(
        self, conn: ConnectionClient, pacer: Pacer, path: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        async with pacer.slot():
            resp = await conn.request("PATCH", path, json={"allOrNone": False, "records": records})
        doc = resp.json()
        return doc if isinstance(doc, list) else []

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, SalesforceDestination)
        pacer = self.pacer(flow, conn)
        size = min(MAX_BATCH, flow.batching.batch_size or MAX_BATCH)
        recs = [_Rec(i) for i in items]
        todo = []
        for r in recs:
            if fields_of(r.item).get(dest.external_id_field) in (None, ""):
                r.failed = ItemResult(
                    r.item.event_id, "rejected", None, f"external ID {dest.external_id_field!r} has no value"
                )
            else:
                todo.append(r)
        path = f"/services/data/{segment(dest.api_version)}/composite/sobjects/{segment(dest.sobject)}/{segment(dest.external_id_field)}"

        async def upsert(part: list[_Rec]) -> None:
            records = [{"attributes": {"type": dest.sobject}, **fields_of(r.item)} for r in part]
            try:
                results = await self._collection(conn, pacer, path, records)
            except HTTPCallError as err:
                self._failed(part, err, f"{dest.sobject} upsert")
                return
            for n, r in enumerate(part):
                res = results[n] if n < len(results) else {}
                if res.get("success"):
                    r.sf_id, r.action = str(res["id"]), "created" if res.get("created") else "updated"
                    continue
                text, retry = _errors(res)
                r.failed = ItemResult(
                    r.item.event_id, "retry" if retry else "rejected", 200, f"Salesforce {text}"
                )

        for wave in waves(todo, lambda r: str(fields_of(r.item)[dest.external_id_field])):
            await asyncio.gather(*(upsert(c) for c in chunks(wave, size)))
        live = [r for r in recs if r.failed is None]
        if dest.campaign is not None and live:
            await self._members(conn, pacer, dest, live)
        return [
            final_result(r.item, r.failed, f"{dest.sobject} {r.sf_id} {r.action}", r.sf_id, r.action, r.notes)
            for r in recs
        ]

    async def _members(
        self, conn: ConnectionClient, pacer: Pacer, dest: SalesforceDestination, live: list[_Rec]
    ) -> None:
        who = "LeadId" if dest.sobject == "Lead" else "ContactId"
        todo: list[tuple[_Rec, dict[str, Any]]] = []
        for r in live:
            campaign = value_of(r.item, "campaign.ref")
            status = status_text(value_of(r.item, "campaign.status"))
            if campaign in (None, ""):
                r.notes.append("no campaign member (campaign has no value)")
                continue
            member: dict[str, Any] = {
                "attributes": {"type": "CampaignMember"},
                "CampaignId": str(campaign),
                who: r.sf_id,
                dest.member_external_id_field: f"{campaign}:{r.sf_id}",
            }
            if status is not None:
                member["Status"] = status
            todo.append((r, member))
        path = f"/services/data/{segment(dest.api_version)}/composite/sobjects/CampaignMember/{segment(dest.member_external_id_field)}"

        async def upsert(part: list[tuple[_Rec, dict[str, Any]]]) -> None:
            try:
                results = await self._collection(conn, pacer, path, [m for _, m in part])
            except HTTPCallError as err:
                self._failed([r for r, _ in part], err, "CampaignMember upsert")
                return
            for n, (r, m) in enumerate(part):
                res = results[n] if n < len(results) else {}
                label = f"campaign {m['CampaignId']} member"
                if res.get("success"):
                    act = "created" if res.get("created") else "updated"
                    r.notes.append(
                        f"{label} {res.get('id')} {act}" + (f" status {m['Status']}" if "Status" in m else "")
                    )
                    continue
                text, retry = _errors(res)
                if "DUPLICATE_VALUE" in text:
                    # A member someone else created (no external ID of ours): the person is in the
                    # campaign; its status stays as that integration set it.
                    r.notes.append(f"{label}: already a member (created outside eventsync), status unchanged")
                    continue
                r.failed = ItemResult(
                    r.item.event_id, "retry" if retry else "rejected", 200, f"{label}: Salesforce {text}"
                )

        await asyncio.gather(*(upsert(c) for c in chunks(todo, MAX_BATCH)))
