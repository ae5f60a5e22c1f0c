"""Pages, start to finish: request, select records, enrich, transform, apply in chunks.

Records live only here, in the activity; what returns is the next position, the high-water mark
and counts. One activity reads a bounded group of pages in a row and overlaps the waits: the next
page is requested while the current one is transformed and applied, and each chunk is transformed
while the previous one is being sent. Chunks and pages still land in source order, one request
to the target at a time, so a record that appears twice is applied in the order it was read.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eventsync import telemetry
from eventsync.definitions.fetches import FetchDefinition, Lookup
from eventsync.fetch import checkpoint as cp
from eventsync.fetch import pagination, templating, transform
from eventsync.fetch.errors import FetchError
from eventsync.fetch.jsonpaths import find_one
from eventsync.fetch.models import (
    MAX_REJECTIONS_KEPT,
    CheckpointValue,
    Counts,
    PageInput,
    PageResult,
    Position,
    Rejection,
)
from eventsync.fetch.requester import ClientFor
from eventsync.fetch.run import merge_boundary, wholesale_rejection
from eventsync.fetch.targets import apply_chunk
from eventsync.http.errors import loggable

log = logging.getLogger(__name__)


def _json(resp: Any, what: str) -> Any:
    try:
        return resp.json()
    except ValueError:
        raise FetchError(f"{what}: the response is not JSON (HTTP {resp.status_code})") from None


async def _enrich(defn: FetchDefinition, lookup: Lookup, records: list[Any], client_for: ClientFor) -> None:
    client = client_for(lookup.connection or defn.request.connection)
    gate = asyncio.Semaphore(lookup.concurrency)

    async def one(i: int, record: Any) -> None:
        if not isinstance(record, dict):
            return
        path = templating.render(lookup.path, {**defn.variables, "record": record}, f"lookups[{i}].path")
        async with gate:
            resp = await client.request("GET", path, timeout=defn.limits.request_timeout_s)
        data = _json(resp, f"lookup {lookup.into}")
        record[lookup.into] = find_one(lookup.select, data) if lookup.select else data

    await asyncio.gather(*(one(i, r) for i, r in enumerate(records)))


def _checkpoint_values(defn: FetchDefinition, records: list[Any]) -> list[CheckpointValue]:
    ck = defn.checkpoint
    if ck is None:
        return []
    values: list[CheckpointValue] = []
    for i, record in enumerate(records):
        raw = find_one(ck.field, record)
        try:
            values.append(cp.canonical(ck, raw, f"record {i} of the page, field {ck.field}"))
        except cp.CheckpointError as e:
            raise FetchError(f"checkpoint: {e}") from None
    return values


@dataclass
class _Read:
    """A page as read from the source, before anything of it is applied."""

    records: list[Any]
    next: Position | None
    high_water: CheckpointValue | None
    total: int | None = None
    boundary: list[str] = field(default_factory=list)
    unchanged: int = 0
    fetched: int = 0


def identity(record: Any) -> str:
    """A record's content identity: equal for an unchanged record, whatever its key order."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _at_the_boundary(
    defn: FetchDefinition,
    inp: PageInput,
    records: list[Any],
    values: list[CheckpointValue],
    keys: list[Any],
) -> tuple[list[Any], list[str], int]:
    """The records to apply (those at the run's window that were applied before, unchanged, are
    not), and the identities of the records at this page's top value. `keys`: the values'
    sort keys, in record order."""
    ck = defn.checkpoint
    if ck is None or not values:
        return records, [], 0
    top_key = max(keys)
    window_key = cp.sort_key(ck, inp.window) if inp.window is not None and inp.skip else None
    skip = set(inp.skip)
    kept: list[Any] = []
    boundary: list[str] = []
    unchanged = 0
    for record, key in zip(records, keys, strict=True):
        ident = identity(record) if key == top_key or key == window_key else None
        if key == top_key and ident is not None:
            boundary.append(ident)
        if key == window_key and ident in skip:
            unchanged += 1
            continue
        kept.append(record)
    return kept, boundary, unchanged


async def _read(defn: FetchDefinition, inp: PageInput, position: Position, client_for: ClientFor) -> _Read:
    req = pagination.prepare(defn, position, inp.window)
    source = client_for(defn.request.connection)
    resp = await source.request(
        req.method,
        req.url,
        params=req.params or None,
        json=req.json,
        headers=req.headers or None,
        timeout=defn.limits.request_timeout_s,
    )
    body = _json(resp, f"source {defn.request.connection}")
    records = pagination.select_records(defn.records, body)
    values = _checkpoint_values(defn, records)
    next_position = pagination.advance(defn, position, resp, body, len(records), values)
    keys = [cp.sort_key(defn.checkpoint, v) for v in values] if defn.checkpoint else []
    high_water: CheckpointValue | None = None
    if keys:
        top = max(range(len(keys)), key=keys.__getitem__)
        high_water = values[top]
    total_path = getattr(defn.pagination, "total_path", None)
    total = find_one(total_path, body) if total_path else None
    fetched = len(records)
    records, boundary, unchanged = _at_the_boundary(defn, inp, records, values, keys)
    return _Read(
        records=records,
        next=next_position,
        high_water=high_water,
        total=int(total) if isinstance(total, int | float) and not isinstance(total, bool) else None,
        boundary=boundary,
        unchanged=unchanged,
        fetched=fetched,
    )


async def _apply(
    defn: FetchDefinition, page: _Read, client_for: ClientFor, heartbeat: Callable[[], None]
) -> Counts:
    """Enrich, transform and apply one page; the counts of what landed."""
    records = page.records
    counts = Counts(pages=1, fetched=page.fetched, unchanged=page.unchanged)
    for lookup in defn.lookups:
        await _enrich(defn, lookup, records, client_for)
        heartbeat()

    chain = transform.compile_chain(defn.transform)
    target = defn.target
    target_client = client_for(target.connection)
    sending: asyncio.Task[tuple[int, list[Rejection]]] | None = None

    async def landed() -> None:
        # Strictly one chunk in flight: chunk k+1 is sent only once chunk k has landed.
        nonlocal sending
        if sending is None:
            return
        applied, rejections = await sending
        sending = None
        counts.applied += applied
        counts.rejected += len(rejections)
        counts.rejections.extend(rejections)
        heartbeat()

    chunk: list[dict[str, Any]] = []
    try:
        for i, record in enumerate(records):
            try:
                chunk.extend(transform.outputs(chain(record) if chain else record))
            except Exception as e:  # one record's bad shape must not stop the page
                counts.rejected += 1
                counts.rejections.append(Rejection(reason=f"transform of record {i}: {e}"))
            while len(chunk) >= target.chunk_size:
                await landed()
                ready, chunk = chunk[: target.chunk_size], chunk[target.chunk_size :]
                sending = asyncio.create_task(apply_chunk(target, target_client, ready))
        await landed()
        while chunk:
            ready, chunk = chunk[: target.chunk_size], chunk[target.chunk_size :]
            sending = asyncio.create_task(apply_chunk(target, target_client, ready))
            await landed()
    finally:
        if sending is not None:
            sending.cancel()
            await asyncio.gather(sending, return_exceptions=True)
    wholesale = wholesale_rejection(counts)
    if wholesale is not None:
        raise FetchError(wholesale)
    del counts.rejections[MAX_REJECTIONS_KEPT:]
    return counts


async def run_page(
    defn: FetchDefinition,
    inp: PageInput,
    client_for: ClientFor,
    heartbeat: Callable[[], None],
    *,
    start: PageResult | None = None,
    committed: Callable[[PageResult], None] | None = None,
) -> PageResult:
    """Read and apply up to `inp.max_pages` pages from `inp.position`, in order, pipelined: page
    k+1 is requested while page k is transformed and applied.

    After each page has landed, `committed` receives the group's result so far (the activity
    heartbeats it); a retried attempt passes the last one back as `start` and continues after
    it. So a crash re-applies at most the page that was being applied (and re-requests the one
    read ahead), however long the group. A failure on the first page not yet committed raises
    (the activity's retry or park) when nothing is committed; otherwise the group ends with the
    committed pages, and the next activity starts at the failing page and meets the failure
    itself. `defn` is the worker's own definition of `inp.name`, never one from the input.
    """
    started = time.monotonic()
    result = (
        start.model_copy(deep=True) if start is not None else PageResult(next=inp.position, counts=Counts())
    )
    if result.next is None:
        return result  # the attempt before this one had read the last page
    current: asyncio.Task[_Read] | None = asyncio.create_task(_read(defn, inp, result.next, client_for))
    try:
        while current is not None:
            first = result.counts.pages == 0
            try:
                page = await current
            except Exception as e:
                current = None
                if first:
                    raise
                log.info("fetch %s: group ends before a page that failed to read: %s", defn.name, loggable(e))
                break
            current = None
            heartbeat()
            more = (
                page.next is not None
                and result.counts.pages + 1 < inp.max_pages
                and (inp.budget_s is None or time.monotonic() - started < inp.budget_s)
            )
            if more:
                assert page.next is not None
                current = asyncio.create_task(_read(defn, inp, page.next, client_for))
                # Let it send its request now: the transform below does not yield until its
                # first chunk is ready, and the source's latency should run under that work.
                await asyncio.sleep(0)
            try:
                counts = await _apply(defn, page, client_for, heartbeat)
            except Exception as e:
                if first:
                    raise
                log.info(
                    "fetch %s: group ends before a page that failed to apply: %s", defn.name, loggable(e)
                )
                break
            page.records = []
            telemetry.record_fetch_page(defn.name, page.fetched)
            result.counts.add(counts)
            result.next = page.next
            result.total = page.total if page.total is not None else result.total
            if defn.checkpoint is not None:
                merge_boundary(defn, result, page.high_water, page.boundary)
            if committed is not None:
                committed(result)
    finally:
        if current is not None:
            current.cancel()
            await asyncio.gather(current, return_exceptions=True)
    return result
