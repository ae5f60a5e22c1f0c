"""One page of a reprocess: read it from the platform, sync each record, count what happened.

Records stay inside this call (the workflow sees counts and the next offset only). A record
Touchpoint refuses for good (no email, a 4xx) is counted as failed with its reason and the page
goes on; a retryable failure (429, 5xx, timeout) fails the page, which is retried whole: the
records already synced read as unchanged the second time, so nothing is written twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.http import ConnectionClient, HTTPCallError
from eventsync.platform.api import EventRef, Kind, Page, read_page, resolve_event
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.attendees import PlanError
from eventsync.touchpoint.sync import sync_record

MAX_PROBLEMS_PER_PAGE = 20
CONCURRENCY = 8


@dataclass
class PageOutcome:
    read: int
    total: int
    next_start: int | None
    event_code: str
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


async def _read(
    platform: ConnectionClient,
    account: str,
    event: EventRef,
    kind: Kind,
    start: int,
    size: int,
    since: str | None,
) -> tuple[Page, EventRef]:
    try:
        return await read_page(platform, account, event.event_code, kind, start, size, since), event
    except HTTPCallError as e:
        if e.status != 404:
            raise
    # The code in hand no longer names the event: it was changed. Find it again by its id.
    fresh = await resolve_event(platform, account, event.event_id)
    return await read_page(platform, account, fresh.event_code, kind, start, size, since), fresh


async def reprocess_page(
    platform: ConnectionClient,
    touchpoint: ConnectionClient,
    dest: TouchpointDestination,
    account: str,
    event: EventRef,
    kind: Kind,
    start: int,
    size: int,
    since: str | None,
    heartbeat: Callable[[int], None] = lambda _n: None,
) -> PageOutcome:
    page, event = await _read(platform, account, event, kind, start, size, since)
    api = TouchpointAPI(touchpoint)
    counts: dict[str, int] = {}
    problems: list[str] = []
    sem = asyncio.Semaphore(CONCURRENCY)
    done = 0
    record_kind = "session" if kind == "sessions" else "registration"

    def note(key: str, what: str) -> None:
        if len(problems) < MAX_PROBLEMS_PER_PAGE:
            problems.append(f"{key}: {what}")

    async def one(rec: dict[str, object]) -> None:
        nonlocal done
        key = str(rec.get("registrationCode") or f"session:{rec.get('sessionCode')}")
        async with sem:
            try:
                result = await sync_record(api, dest, record_kind, rec)
            except PlanError as e:
                counts["failed"] = counts.get("failed", 0) + 1
                note(key, str(e))
            except HTTPCallError as e:
                if e.retryable:
                    raise
                counts["failed"] = counts.get("failed", 0) + 1
                note(key, str(e))
            else:
                counts[result.action] = counts.get(result.action, 0) + 1
                if result.problems:
                    counts["refused_links"] = counts.get("refused_links", 0) + len(result.problems)
                    for p in result.problems:
                        note(key, p)
        done += 1
        heartbeat(done)

    await asyncio.gather(*(one(r) for r in page.items))
    return PageOutcome(
        read=len(page.items),
        total=page.total,
        next_start=page.next_start,
        event_code=event.event_code,
        counts=counts,
        problems=problems,
    )
