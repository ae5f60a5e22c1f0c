"""The platform's API 2.0, in one place: its paths and its paging, for every feature that reads or
writes it (Signal rules and replay, Touchpoint reprocess and real-time
reads, the fetch target's Bulk Registration Upsert, the connection test); how it lists tags is
`eventsync.platform.tags`, a module of its own so that the definitions can read tags without
importing the HTTP core.

Paths are `certainExternal/service/v1/<Object>/<accountCode>[/<eventCode>[/<code>]]`
(docs/sandbox.md), relative to the connection's `base_url` (the platform's root, or a root that
already ends in that prefix); every account, event and record code is one quoted path segment,
so data cannot reach another path (docs/security.md). Listings page by `max_results` /
`start_index` (a 0-based record offset); an empty page answers 404.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from eventsync.http import ConnectionClient, HTTPCallError
from eventsync.platform.tags import tag_names

API = "certainExternal/service/v1"
STATUS_TTL_S = 60.0
PAGE_SIZE = 500
Kind = Literal["sessions", "registrants"]

_status_cache: dict[tuple[str, str, str], tuple[float, dict[str, tuple[str, ...]]]] = {}


def path(conn: ConnectionClient | None, *parts: str) -> str:
    """`API/<parts…>`, each part one quoted segment; without the prefix when the connection's
    base URL already ends in it."""
    base = urlsplit(str(conn.connection.base_url)).path.rstrip("/") if conn is not None else ""
    prefix = "" if base.endswith("/" + API) else "/" + API + "/"
    return prefix + "/".join(quote(str(p), safe="") for p in parts)


def bulk_upsert_path(account: str, event: str) -> str:
    return path(None, "BulkRegistration", account, event)


async def status_tags(conn: ConnectionClient, account: str, event_code: str) -> dict[str, tuple[str, ...]]:
    """Status label -> the tags on that status, in this event (standard and custom statuses)."""
    key = (conn.name, account, event_code)
    hit = _status_cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < STATUS_TTL_S:
        return hit[1]
    doc = (
        await conn.request(
            "GET",
            path(conn, "RegistrationStatus", account, event_code),
            params={"includeList": "tags", "max_results": 1000},
        )
    ).json()
    table = {str(s.get("label")): tag_names(s.get("tags")) for s in doc.get("registrationStatuses") or []}
    _status_cache[key] = (now, table)
    return table


async def registrations_modified(
    conn: ConnectionClient,
    account: str,
    after: str,
    before: str,
    event_codes: list[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[dict[str, Any]]:
    """Registrations with `after < dateModified < before`, oldest change first, with their tags,
    answers and properties (`includeList=all`). An empty page (404) ends a listing."""
    paths = (
        [path(conn, "Registration", account, e) for e in event_codes]
        if event_codes
        else [path(conn, "Registration", account)]
    )
    for listing in paths:
        start = 0
        while True:
            params = {
                "dateModified_after": after,
                "dateModified_before": before,
                "orderBy": "dateModified_asc",
                "includeList": "all",
                "max_results": page_size,
                "start_index": start,
            }
            try:
                doc = (await conn.request("GET", listing, params=params)).json()
            except HTTPCallError as err:
                if err.status == 404:
                    break
                raise
            items = doc.get("registrations") or []
            for item in items:
                yield item
            if len(items) < page_size:
                break
            start += len(items)


class EventNotFound(LookupError):
    pass


@dataclass(frozen=True)
class EventRef:
    event_id: int
    event_code: str
    name: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int
    next_start: int | None


async def _list_events(conn: ConnectionClient, account: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    for _ in range(1000):  # bounded: 1000 pages of events is far beyond any account
        try:
            resp = await conn.request(
                "GET", path(conn, "Event", account), params={"max_results": 100, "start_index": start}
            )
        except HTTPCallError as e:
            if e.status == 404:
                break
            raise
        doc = resp.json()
        items = doc.get("events") or []
        out += items
        start += len(items)
        if not items or start >= int(doc.get("completeCollectionSize") or 0):
            break
    return out


async def resolve_event(conn: ConnectionClient, account: str, event: str | int) -> EventRef:
    """An event by its stable id (digits) or its current code, as the platform knows it now."""
    text = str(event)
    if text.isdigit():
        for ev in await _list_events(conn, account):
            if str(ev.get("eventId")) == text:
                return EventRef(int(ev["eventId"]), str(ev["eventCode"]), ev.get("eventName"))
    try:
        resp = await conn.request("GET", path(conn, "Event", account, text))
    except HTTPCallError as e:
        if e.status == 404:
            raise EventNotFound(f"event {text!r} not found in platform account {account!r}") from None
        raise
    ev = resp.json()
    return EventRef(int(ev["eventId"]), str(ev["eventCode"]), ev.get("eventName"))


async def read_page(
    conn: ConnectionClient,
    account: str,
    event_code: str,
    kind: Kind,
    start: int,
    size: int,
    since: str | None,
) -> Page:
    obj = "Session" if kind == "sessions" else "Registration"
    params: dict[str, Any] = {"includeList": "tags", "max_results": size, "start_index": start}
    if kind == "registrants":
        params["orderBy"] = "pkRegId_asc"
    if since:
        params["dateModified_after"] = since
    try:
        resp = await conn.request("GET", path(conn, obj, account, event_code), params=params)
    except HTTPCallError as e:
        if e.status == 404 and "No records" in str(e):
            return Page([], 0, None)
        raise
    doc = resp.json()
    items = doc.get("sessions" if kind == "sessions" else "registrations") or []
    total = int(doc.get("completeCollectionSize") or 0)
    nxt = start + len(items)
    return Page(items, total, nxt if items and nxt < total else None)


async def read_current(
    conn: ConnectionClient, account: str, kind: Literal["registration", "session"], record: dict[str, Any]
) -> dict[str, Any] | None:
    """The record as the platform holds it now (with tags), or None when it no longer exists.

    A webhook's copy may be older than a later one that already arrived (the platform retries
    failed deliveries without holding back newer ones); reading again makes the last delivery
    for a record write the newest state. A renamed event is found again by its stable id.
    """
    obj, key_field = ("Session", "sessionCode") if kind == "session" else ("Registration", "registrationCode")
    key = str(record.get(key_field) or "")
    code = str(record.get("eventCode") or "")
    eid = record.get("eventId")
    for attempt in (1, 2):
        try:
            resp = await conn.request(
                "GET", path(conn, obj, account, code, key), params={"includeList": "tags"}
            )
            doc = resp.json()
            return doc if isinstance(doc, dict) else None
        except HTTPCallError as e:
            if e.status != 404:
                raise
        if attempt == 2 or eid is None:
            return None
        try:
            fresh = await resolve_event(conn, account, int(eid))
        except EventNotFound:
            return None  # the event itself is gone
        if fresh.event_code == code:
            return None  # same event, so the record is gone
        code = fresh.event_code
    return None
