"""Operating Signal flows: the retry queue, retry and discard, explain, replay (the CLI's
`retry-queue`, `explain` and `replay` are thin commands over this, as `fetch` is over
client/fetch_control.py).

What happened to each event is in the event store (eventsync/store), so the retry queue and
`explain` read it there and answer whatever state a workflow is in. `retry` and `discard` are
signals to the shard workflows holding the records, so who and why stay in Temporal's history;
the shard applies them to the store. docs/flows.md gives the `temporal` CLI equivalent of each.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from temporalio.client import Client

from client.router import FlowRouter
from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.events import PlatformEvent
from eventsync.flows.sharding import workflow_id
from eventsync.http import ConnectionPool
from eventsync.store import ParkedRecord, open_store
from eventsync.store.watch import in_thread
from eventsync.touchpoint.flow import all_flows
from workflows.flow import OperatorAction, SignalShardWorkflow

REPLAY_CHUNK = 1000


def parse_time(value: str) -> datetime:
    """An ISO 8601 time (naive = UTC)."""
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO 8601 time: write e.g. 2026-11-01T00:00:00Z or 2026-11-01"
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (defined: {', '.join(sorted(known)) or 'none'})"


def _q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def shard_ids(client: Client, flow: str | None, running_only: bool = True) -> list[str]:
    """The flow's shard workflows Temporal knows (by search attribute), sorted."""
    query = "EventsyncKind='flow'"
    if flow:
        query += f" AND EventsyncName={_q(flow)}"
    if running_only:
        query += " AND ExecutionStatus='Running'"
    ids: list[str] = []
    async for wf in client.list_workflows(query, limit=1000):
        if wf.id not in ids:
            ids.append(wf.id)
    return sorted(ids)


async def parked(flow: str | None = None) -> list[ParkedRecord]:
    """The retry queue: every parked record (of one flow, or of all), oldest first."""
    return await in_thread(open_store().parked, flow, None, 10_000)


async def operate(
    client: Client, action: str, flow: str | None, record: str | None, by: str, reason: str
) -> int:
    """Send `retry` or `discard` to each shard workflow holding a parked record of the flow (or of
    every flow); `record` narrows to one. Returns how many shards were told."""
    ids = {workflow_id(p.flow, p.shard) for p in await parked(flow) if record is None or p.record_key == record}
    if record is None:
        # Every running shard too: "retry all" also ends a pause for a quota reset or an outage.
        ids.update(i for i in await shard_ids(client, flow) if i.startswith("signal/"))
    sig = SignalShardWorkflow.on_retry if action == "retry" else SignalShardWorkflow.on_discard
    await asyncio.gather(
        *(
            client.get_workflow_handle(i).signal(sig, OperatorAction(record=record, by=by, reason=reason))
            for i in sorted(ids)
        )
    )
    return len(ids)


async def explain(flow: str, record: str) -> list[dict[str, Any]]:
    """Every decision kept about one record of a flow, oldest first, then what still waits."""
    got = await in_thread(open_store().decisions, flow, record)
    return [asdict(d) for d in got]


async def replay(
    client: Client,
    defs: Definitions,
    flow_name: str,
    after: str,
    before: str,
    event_codes: list[str] | None,
    task_queue: str,
    pool: ConnectionPool | None = None,
    source: str = "auto",
) -> int:
    """Re-send a flow's changes in (after, before) through the flow's usual path, in chunks;
    returns how many events were sent. `source`: `store` re-sends the events received in the
    window, as they came; `platform` reads the registrations modified in it from the platform
    API, on their current state; `auto` uses the store when it still holds the whole window
    (its retention), else the platform."""
    from eventsync.flows.replay import ReplayError, replay_events
    from eventsync.keyring import keyring_from_env

    flows = {f.name: f for f in all_flows(defs)}
    flow = flows.get(flow_name)
    if flow is None:
        raise ReplayError(f"no flow named {flow_name!r}" + did_you_mean(flow_name, list(flows)))
    try:
        start, end = parse_time(after), parse_time(before)
    except ValueError as err:
        raise ReplayError(str(err)) from None
    store = open_store()
    keyring = keyring_from_env()
    router = FlowRouter(store, defs, task_queue, client=client, keyring=keyring)
    if source == "auto":
        from worker.keeper import retention_s

        held = await in_thread(store.holds_since, retention_s())
        source = "store" if held <= start.timestamp() else "platform"
    if source == "store":
        return await _replay_store(router, flow, start.timestamp(), end.timestamp(), event_codes)
    if not flow.source.connection:
        raise ReplayError(
            f"flow {flow_name!r}: the event store does not hold this window, and replay from the platform "
            "API needs source.connection"
        )
    own_pool = pool is None
    pool = pool or ConnectionPool()
    try:
        platform = pool.client(defs.connection(flow.source.connection))
        sent = 0
        chunk: list[PlatformEvent] = []
        async for ev in replay_events(flow, platform, start.isoformat(), end.isoformat(), event_codes):
            chunk.append(ev)
            if len(chunk) >= REPLAY_CHUNK:
                sent += await router.submit_replay(flow, chunk)
                chunk = []
        if chunk:
            sent += await router.submit_replay(flow, chunk)
        return sent
    finally:
        if own_pool:
            await pool.aclose()


async def _replay_store(
    router: FlowRouter, flow: FlowDefinition, after: float, before: float, event_codes: list[str] | None
) -> int:
    """The flow's events received in the window, again, in arrival order, each under a fresh id
    (`replay-<run>-<id>`, so dedupe keeps it) and marked replay."""
    from eventsync.flows.pump import decode

    run = uuid.uuid4().hex[:12]
    sent, last = 0, 0
    while True:
        rows = await in_thread(router.store.received_between, flow.name, after, before, last, REPLAY_CHUNK)
        if not rows:
            return sent
        last = rows[-1].seq
        chunk = []
        for row in rows:
            ev = decode(row, router.keyring)
            if ev.replay or (event_codes and ev.event_code not in event_codes):
                continue  # a replay of a replay would double it
            chunk.append(ev.model_copy(update={"id": f"replay-{run}-{ev.id}"[:200], "replay": True}))
        if chunk:
            sent += await router.submit_replay(flow, chunk)
