"""Eloqua: contact upsert through a Bulk 2.0 import (or REST single-contact calls for small
batches), then contact-list membership, an external activity per campaign and, optionally, a form
submission (docs/destinations.md, Eloqua).

Bulk path, per batch: the import definition is created once per worker process and reused (a
process-local lock keeps one sync per definition at a time, as Eloqua requires), the rows are
staged, a sync is started and polled, its rejects are mapped back by `recordIndex`, and the
contacts' ids are read back by `lastUpdatedAt` (the import itself does not return them).
REST path: batches of at most `rest_max_batch` records whose fields are all standard contact
fields use a search and a create or update per contact: two calls, no polling, lower latency.
The base URL comes from `/id` on the connection's login URL, cached per connection.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from eventsync.definitions.destinations import EloquaDestination
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult, Limits
from eventsync.destinations.common import (
    error_results,
    fields_of,
    final_result,
    segment,
    status_text,
    value_of,
)
from eventsync.destinations.pacing import Pacer, pacer_for
from eventsync.http import AuthenticationError, ConnectionClient, HTTPCallError

# Bulk contact field -> REST contact attribute (Eloqua's standard contact fields).
STANDARD_FIELDS = {
    "C_EmailAddress": "emailAddress",
    "C_FirstName": "firstName",
    "C_LastName": "lastName",
    "C_Company": "accountName",
    "C_Title": "title",
    "C_BusPhone": "businessPhone",
    "C_City": "city",
    "C_Country": "country",
}
MAX_BATCH = 5_000
CONCURRENCY = 4  # no published rate limit; 429 is documented, so stay modest
MAX_POLLS = 60
IN_CALL_RETRIES = 4
FINAL = {"success", "warning", "error", "errored"}
_PROCESS = uuid.uuid4().hex[:8]
_SEARCH_SPECIAL = re.compile(r"[*\\]")


def _ambiguous(event_id: str, ids: list[str]) -> ItemResult:
    """Two or more contacts with one address: writing to either would be a guess."""
    return ItemResult(
        event_id,
        "rejected",
        None,
        f"ambiguous: {len(ids)} Eloqua contacts have this email address "
        f"(ids {', '.join(sorted(ids))}); merge them in Eloqua, then retry",
    )


@dataclass
class _Rec:
    item: DeliveryItem
    contact_id: str | None = None
    action: str | None = None
    notes: list[str] = field(default_factory=list)
    failed: ItemResult | None = None


class EloquaAdapter:
    kind = "eloqua"
    limits = Limits(batch_size=1_000, max_concurrency=CONCURRENCY, calls_per_second=None)

    def __init__(self) -> None:
        self.bases: dict[str, str] = {}  # connection -> pod base URL (from /id)
        self.definitions: dict[str, str] = {}  # (connection, fields) -> import definition uri
        self.locks: dict[str, asyncio.Lock] = {}
        self.path_used: dict[str, int] = {"rest": 0, "bulk": 0}

    def pacer(self, flow: FlowDefinition, conn: ConnectionClient) -> Pacer:
        dest = flow.destination
        assert isinstance(dest, EloquaDestination)
        conc = flow.batching.max_concurrency or max(1, int(CONCURRENCY * dest.pacing.share))
        return pacer_for(conn.name, flow.batching.calls_per_second, conc)

    async def base(self, conn: ConnectionClient) -> str:
        known = self.bases.get(conn.name)
        if known:
            return known
        resp = await conn.request("GET", "/id")
        doc = resp.json()
        if not isinstance(doc, dict):
            # /id answers 200 "Not authenticated." for bad credentials
            raise AuthenticationError(
                f"connection {conn.name!r}: Eloqua /id refused the credentials",
                connection=conn.name,
                status=200,
                detail=repr(doc)[:500],
            )
        base = str(doc["urls"]["base"]).rstrip("/")
        self.bases[conn.name] = base
        return base

    async def _req(self, conn: ConnectionClient, pacer: Pacer, method: str, url: str, **kw: Any) -> Any:
        # A batch is several dependent calls; one 429 must not throw away the steps already done,
        # so 429 (never processed) and a GET's 5xx are retried here a few times with backoff. A
        # POST's 5xx is not: Eloqua may have acted on it (a sync started twice merges twice).
        for attempt in range(IN_CALL_RETRIES + 1):
            try:
                async with pacer.slot():
                    resp = await conn.request(method, url, **kw)
                break
            except HTTPCallError as err:
                again = err.status == 429 or (method == "GET" and err.retryable)
                if not again or attempt == IN_CALL_RETRIES:
                    raise
                await asyncio.sleep(err.retry_after or 0.25 * 2**attempt)
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    async def deliver(
        self, flow: FlowDefinition, conn: ConnectionClient, items: list[DeliveryItem]
    ) -> list[ItemResult]:
        dest = flow.destination
        assert isinstance(dest, EloquaDestination)
        pacer = self.pacer(flow, conn)
        recs = [_Rec(i) for i in items]
        try:
            base = await self.base(conn)
        except HTTPCallError as err:
            return error_results(items, err, prefix="Eloqua /id: ")
        todo = []
        for r in recs:
            email = fields_of(r.item).get("C_EmailAddress")
            if email in (None, ""):
                r.failed = ItemResult(r.item.event_id, "rejected", None, "C_EmailAddress has no value")
            elif _SEARCH_SPECIAL.search(str(email)):
                # Eloqua's search treats `*` as a wildcard (and `\` escapes): `*@bigcorp.com` would
                # find, and overwrite, somebody else's contact.
                r.failed = ItemResult(
                    r.item.event_id,
                    "rejected",
                    None,
                    "C_EmailAddress contains '*' or '\\', which Eloqua's search reads as a pattern",
                )
            else:
                todo.append(r)
        all_standard = all(set(fields_of(r.item)) <= set(STANDARD_FIELDS) for r in todo)
        if (
            todo
            and len(todo) <= dest.rest_max_batch
            and all_standard
            and dest.identifier_field == "C_EmailAddress"
        ):
            self.path_used["rest"] += 1
            await asyncio.gather(*(self._rest_upsert(conn, pacer, base, r) for r in todo))
        elif todo:
            self.path_used["bulk"] += 1
            await self._bulk_upsert(flow, conn, pacer, base, dest, todo)
        live = [r for r in recs if r.failed is None]
        if dest.contact_list_id and live:
            await self._list(conn, pacer, base, dest.contact_list_id, live)
        live = [r for r in recs if r.failed is None]
        if dest.activity is not None and live:
            await asyncio.gather(*(self._activity(conn, pacer, base, dest, r) for r in live))
        live = [r for r in recs if r.failed is None]
        if dest.form is not None and live:
            await asyncio.gather(*(self._form(conn, pacer, base, dest, r) for r in live))
        return [
            final_result(
                r.item, r.failed, f"contact {r.contact_id} {r.action}", r.contact_id, r.action, r.notes
            )
            for r in recs
        ]

    # ---- REST single contact ---------------------------------------------------------------------

    async def _rest_upsert(self, conn: ConnectionClient, pacer: Pacer, base: str, r: _Rec) -> None:
        values = fields_of(r.item)
        body = {STANDARD_FIELDS[k]: v for k, v in values.items()}
        email = str(values["C_EmailAddress"])
        try:
            found = await self._req(
                conn,
                pacer,
                "GET",
                f"{base}/api/REST/1.0/data/contacts",
                params={"search": f"emailAddress='{email}'", "depth": "minimal", "count": "10"},
            )
            # Only an exact (case-insensitive) address is this registrant's contact; a quote in
            # the address can widen the search, so every hit is checked, never trusted.
            hits = [
                h
                for h in (found or {}).get("elements") or []
                if str(h.get("emailAddress") or "").lower() == email.lower()
            ]
            if len(hits) > 1:
                r.failed = _ambiguous(r.item.event_id, [str(h["id"]) for h in hits])
                return
            if hits:
                cid = str(hits[0]["id"])
                await self._req(
                    conn, pacer, "PUT", f"{base}/api/REST/1.0/data/contact/{segment(cid)}", json=body
                )
                r.contact_id, r.action = cid, "updated"
            else:
                doc = await self._req(conn, pacer, "POST", f"{base}/api/REST/1.0/data/contact", json=body)
                r.contact_id, r.action = str(doc["id"]), "created"
        except HTTPCallError as err:
            r.failed = error_results([r.item], err, prefix="contact upsert: ")[0]

    # ---- Bulk 2.0 import -------------------------------------------------------------------------

    async def _definition(
        self, conn: ConnectionClient, pacer: Pacer, base: str, dest: EloquaDestination, flow: FlowDefinition
    ) -> tuple[str, str]:
        names = sorted(dest.field_names())
        key = json.dumps([conn.name, names, dest.identifier_field, dest.update_rule])
        uri = self.definitions.get(key)
        if uri is None:
            doc = await self._req(
                conn,
                pacer,
                "POST",
                f"{base}/api/bulk/2.0/contacts/imports",
                json={
                    "name": f"eventsync {flow.name} {_PROCESS}",
                    "fields": {n: f"{{{{Contact.Field({n})}}}}" for n in names},
                    "identifierFieldName": dest.identifier_field,
                    "updateRule": dest.update_rule,
                    "isSyncTriggeredOnImport": False,
                    "dataRetentionDuration": "PT1H",
                },
            )
            uri = str(doc["uri"])
            self.definitions[key] = uri
        return key, uri

    async def _bulk_upsert(
        self,
        flow: FlowDefinition,
        conn: ConnectionClient,
        pacer: Pacer,
        base: str,
        dest: EloquaDestination,
        todo: list[_Rec],
    ) -> None:
        try:
            key, uri = await self._definition(conn, pacer, base, dest, flow)
            lock = self.locks.setdefault(key, asyncio.Lock())
            async with lock:  # one sync per definition at a time; staged rows must not mix
                since = int(time.time()) - 1
                rows = [fields_of(r.item) for r in todo]
                try:
                    await self._req(conn, pacer, "POST", f"{base}/api/bulk/2.0{uri}/data", json=rows)
                except HTTPCallError as err:
                    if err.status != 404:
                        raise
                    self.definitions.pop(key, None)  # definition deleted (or expired): make a new one
                    key, uri = await self._definition(conn, pacer, base, dest, flow)
                    await self._req(conn, pacer, "POST", f"{base}/api/bulk/2.0{uri}/data", json=rows)
                try:
                    sync = await self._req(
                        conn, pacer, "POST", f"{base}/api/bulk/2.0/syncs", json={"syncedInstanceUri": uri}
                    )
                except HTTPCallError:
                    # The rows stay staged on this definition; a retry staging them again would
                    # sync each twice (Eloqua refuses the import: duplicate emails). A retry gets a
                    # fresh definition; this one expires with its data (dataRetentionDuration).
                    self.definitions.pop(key, None)
                    raise
                status, sync_uri = sync.get("status"), str(sync["uri"])
                delay = 0.1
                for _ in range(MAX_POLLS):
                    if status in FINAL:
                        break
                    await asyncio.sleep(delay)
                    delay = min(2.0, delay * 2)
                    status = (await self._req(conn, pacer, "GET", f"{base}/api/bulk/2.0{sync_uri}")).get(
                        "status"
                    )
                if status not in FINAL:
                    for r in todo:
                        r.failed = ItemResult(
                            r.item.event_id, "retry", None, f"Eloqua sync {sync_uri} still {status}"
                        )
                    return
                if status != "success":
                    rejects = await self._req(
                        conn,
                        pacer,
                        "GET",
                        f"{base}/api/bulk/2.0{sync_uri}/rejects",
                        params={"limit": "50000"},
                    )
                    for rej in (rejects or {}).get("items") or []:
                        n = int(rej.get("recordIndex", 0)) - 1
                        if 0 <= n < len(todo):
                            todo[n].failed = ItemResult(
                                todo[n].item.event_id,
                                "rejected",
                                200,
                                f"Eloqua {rej.get('statusCode')}: {rej.get('message')}",
                            )
            await self._ids(conn, pacer, base, since, [r for r in todo if r.failed is None])
        except HTTPCallError as err:
            for r, res in zip(
                todo, error_results((r.item for r in todo), err, prefix="bulk import: "), strict=True
            ):
                if r.failed is None:
                    r.failed = res

    async def _ids(
        self, conn: ConnectionClient, pacer: Pacer, base: str, since: int, recs: list[_Rec]
    ) -> None:
        """The import answers counts, not ids: read back the contacts changed since it began."""
        want = {str(fields_of(r.item)["C_EmailAddress"]).lower(): r for r in recs}
        found: dict[str, dict[str, Any]] = {}
        page = 1
        while len(found) < len(want) and page <= 100:
            doc = await self._req(
                conn,
                pacer,
                "GET",
                f"{base}/api/REST/1.0/data/contacts",
                params={"lastUpdatedAt": str(since), "depth": "minimal", "count": "1000", "page": str(page)},
            )
            elements = (doc or {}).get("elements") or []
            for c in elements:
                address = str(c.get("emailAddress") or "").lower()
                if address in want:
                    found.setdefault(address, {})[str(c["id"])] = c
            if len(elements) < 1000:
                break
            page += 1
        for address, r in want.items():
            hits = found.get(address, {})
            if len(hits) > 1:
                # Two contacts with one address: which one the import wrote is unknown, so the
                # follow-up steps (list, activity, form) must not guess.
                r.failed = _ambiguous(r.item.event_id, list(hits))
            elif hits:
                [(cid, c)] = hits.items()
                r.contact_id = cid
                r.action = "created" if int(c.get("createdAt") or 0) >= since else "updated"
            else:
                r.action = "updated"
                r.notes.append("contact id not found after the import")

    # ---- follow-up steps -------------------------------------------------------------------------

    async def _list(
        self, conn: ConnectionClient, pacer: Pacer, base: str, list_id: str, live: list[_Rec]
    ) -> None:
        ids = [r for r in live if r.contact_id]
        if not ids:
            return
        try:
            await self._req(
                conn,
                pacer,
                "PUT",
                f"{base}/api/REST/1.0/assets/contact/list/{segment(list_id)}",
                json={"id": list_id, "membershipAdditions": [r.contact_id for r in ids]},
            )
        except HTTPCallError as err:
            for r, res in zip(
                ids, error_results((r.item for r in ids), err, prefix=f"list {list_id}: "), strict=True
            ):
                r.failed = res
            return
        for r in ids:
            r.notes.append(f"added to list {list_id}")

    async def _activity(
        self, conn: ConnectionClient, pacer: Pacer, base: str, dest: EloquaDestination, r: _Rec
    ) -> None:
        act = dest.activity
        assert act is not None
        campaign = value_of(r.item, "activity.campaign")
        kind = status_text(value_of(r.item, "activity.type"))
        if campaign in (None, "") or kind is None or not r.contact_id:
            r.notes.append("no external activity (campaign or activity type has no value)")
            return
        body = {
            "type": "Activity",
            "contactId": r.contact_id,
            "campaignId": str(campaign),
            "assetType": act.asset_type,
            "assetName": str(value_of(r.item, "activity.asset_name") or ""),
            "activityType": kind,
        }
        try:
            doc = await self._req(conn, pacer, "POST", f"{base}/api/rest/2.0/data/activity", json=body)
        except HTTPCallError as err:
            r.failed = error_results([r.item], err, prefix=f"activity (campaign {campaign}): ")[0]
            return
        r.notes.append(f"activity {doc.get('id')} {kind} in campaign {campaign}")

    async def _form(
        self, conn: ConnectionClient, pacer: Pacer, base: str, dest: EloquaDestination, r: _Rec
    ) -> None:
        form = dest.form
        assert form is not None
        values = [
            {"type": "FieldValue", "id": fid, "value": value_of(r.item, f"form.{fid}")}
            for fid in form.fields
            if value_of(r.item, f"form.{fid}") is not None
        ]
        try:
            doc = await self._req(
                conn,
                pacer,
                "POST",
                f"{base}/api/rest/2.0/data/form/{segment(form.form_id)}",
                json={"fieldValues": values},
            )
        except HTTPCallError as err:
            r.failed = error_results([r.item], err, prefix=f"form {form.form_id}: ")[0]
            return
        r.notes.append(f"form {form.form_id} submission {doc.get('id')}")
