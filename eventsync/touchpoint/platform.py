"""Reading the platform (Certain-style API 2.0) for reprocess: the event, then pages of records.

Pages are `max_results`/`start_index` (0-based record offset, the emulator's default reading;
docs/sandbox.md) in the platform's stable order (registrations by `pkRegId`, sessions by
`sessionId`); an empty page answers 404, which ends the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from eventsync.http import ConnectionClient, HTTPCallError

API = "certainExternal/service/v1"
Kind = Literal["sessions", "registrants"]


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


def _path(conn: ConnectionClient, *parts: str) -> str:
    base = urlsplit(str(conn.connection.base_url)).path.rstrip("/")
    prefix = "" if base.endswith("/" + API) else API + "/"
    return prefix + "/".join(quote(p, safe="") for p in parts)


async def _list_events(conn: ConnectionClient, account: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start = 0
    for _ in range(1000):  # bounded: 1000 pages of events is far beyond any account
        try:
            resp = await conn.request(
                "GET", _path(conn, "Event", account), params={"max_results": 100, "start_index": start}
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
        resp = await conn.request("GET", _path(conn, "Event", account, text))
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
        resp = await conn.request("GET", _path(conn, obj, account, event_code), params=params)
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
                "GET", _path(conn, obj, account, code, key), params={"includeList": "tags"}
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
