"""End to end through the real path: signed webhook -> receiver -> Temporal dev server -> flow
shards -> vendor adapter -> vendor emulator, with the emulator's fault knobs on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.client import Client

from client.flow_control import explain, parked
from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from tests.integration.signal.harness import post_event, receiver
from tests.unit.destinations.support import connection, event_doc, flow
from worker.main import build_worker

STATUSES = ["Registered", "Registered", "Attended"]


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 90.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = await check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held")
        await asyncio.sleep(0.3)


async def delivered_seqs(client: Client, f: FlowDefinition, record: str) -> list[int]:
    """Sequence numbers of the record's events the destination took, in the order it took them."""
    entries = await explain(f.name, record)
    return [int(e["event_id"].split("-")[2]) for e in entries if e["decision"] == "delivered"]


async def run_flow(
    client: Client,
    task_queue: str,
    vendor: str,
    url: str,
    records: list[str],
    *,
    bad: dict[str, str] | None = None,
    dest: dict[str, Any] | None = None,
    mid_run: Callable[[httpx.AsyncClient], Awaitable[None]] | None = None,
    rounds: int = 3,
    expect_parked: set[str] | None = None,
) -> tuple[FlowDefinition, dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Send `rounds` events per record (status changes), apply `mid_run` after the first round,
    wait until every record is delivered or parked; return the flow, explain per record and the
    parked map."""
    conn = connection(vendor, url)
    # every event must go out here (the fault paths are the point): unchanged bodies too
    f = flow(vendor, conn.name, dest, batching={"max_attempts": 30}, skip_unchanged=False)
    defs = Definitions(connections=[conn], flows=[f])  # type: ignore[call-arg]
    bad = bad or {}
    want_parked = expect_parked if expect_parked is not None else set(bad)
    async with httpx.AsyncClient(timeout=30) as http, build_worker(client, task_queue):
        with receiver(client, defs, task_queue) as rx:
            for seq in range(rounds):
                for rec in records:
                    doc = event_doc(rec, seq, STATUSES[min(seq, len(STATUSES) - 1)], bad.get(rec))
                    r = await post_event(http, rx.url, doc)
                    assert r.status_code == 200, r.text
                if seq == 0 and mid_run is not None:
                    await until(
                        lambda: _all_first(client, f, [r for r in records if r not in bad]),
                        what="first round",
                    )
                    await mid_run(http)

            async def settled() -> bool:
                p = {p.record_key for p in await parked(f.name)}
                if p != want_parked:
                    return False
                for rec in records:
                    if rec not in want_parked and len(await delivered_seqs(client, f, rec)) < rounds:
                        return False
                return True

            await until(settled, timeout=150, what="every record delivered or parked")
            explained = {rec: await explain(f.name, rec) for rec in records}
            park_map = {p.record_key: p for p in await parked(f.name)}
    return f, explained, park_map


async def _all_first(client: Client, f: FlowDefinition, records: list[str]) -> bool:
    for rec in records:
        if not await delivered_seqs(client, f, rec):
            return False
    return True


def assert_in_order(
    client_explained: dict[str, list[dict[str, Any]]], records: list[str], rounds: int
) -> None:
    for rec in records:
        seqs = [
            int(e["event_id"].split("-")[2]) for e in client_explained[rec] if e["decision"] == "delivered"
        ]
        assert seqs == list(range(rounds)), (rec, seqs)
        last = [e for e in client_explained[rec] if e["decision"] == "delivered"][-1]
        assert last["vendor_id"] and last["action"] in ("created", "updated"), last


async def state(http: httpx.AsyncClient, url: str) -> dict[str, Any]:
    r = await http.get(url + "/_sandbox/state")
    r.raise_for_status()
    doc: dict[str, Any] = r.json()
    return doc
