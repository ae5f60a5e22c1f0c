"""One page, start to finish: request, select records, enrich, transform, apply in chunks.

Records live only here, in the activity; what returns is the next position, the page's
high-water mark and counts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from eventsync.definitions.fetches import FetchDefinition, Lookup
from eventsync.fetch import checkpoint as cp
from eventsync.fetch import pagination, templating, transform
from eventsync.fetch.errors import FetchError
from eventsync.fetch.jsonpaths import find_one
from eventsync.fetch.models import CheckpointValue, Counts, PageInput, PageResult, Rejection
from eventsync.fetch.requester import ClientFor
from eventsync.fetch.targets import apply_chunk


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


async def run_page(inp: PageInput, client_for: ClientFor, heartbeat: Callable[[], None]) -> PageResult:
    defn = inp.definition
    req = pagination.prepare(defn, inp.position, inp.window)
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
    counts = Counts(pages=1, fetched=len(records))
    next_position = pagination.advance(defn, inp.position, resp, body, len(records), values)
    high_water: CheckpointValue | None = None
    for v in values:
        high_water = cp.later(defn.checkpoint, high_water, v) if defn.checkpoint else None
    heartbeat()

    for lookup in defn.lookups:
        await _enrich(defn, lookup, records, client_for)
        heartbeat()

    chain = transform.compile_chain(defn.transform)
    out: list[dict[str, Any]] = []
    for i, record in enumerate(records):
        try:
            out.extend(transform.outputs(chain(record) if chain else record))
        except Exception as e:  # one record's bad shape must not stop the page
            counts.rejected += 1
            counts.rejections.append(Rejection(reason=f"transform of record {i}: {e}"))
    del records

    target = defn.target
    target_client = client_for(target.connection)
    for start in range(0, len(out), target.chunk_size):
        chunk = out[start : start + target.chunk_size]
        applied, rejections = await apply_chunk(target, target_client, chunk)
        counts.applied += applied
        counts.rejected += len(rejections)
        counts.rejections.extend(rejections)
        heartbeat()
    if counts.fetched and counts.applied == 0 and counts.rejected:
        # Nothing at all got through: a wrong Jolt spec or target, not a few bad records.
        first = counts.rejections[0].reason if counts.rejections else "rejected"
        raise FetchError(
            f"target rejected every record of the page ({counts.rejected}); first reason: {first}"
        )
    del counts.rejections[50:]
    return PageResult(next=next_position, high_water=high_water, counts=counts)
