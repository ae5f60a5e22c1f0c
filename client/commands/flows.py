"""`eventsync retry-queue list|retry|discard`, `eventsync explain`, `eventsync replay`.

What happened to each event is in the event store (eventsync/store), so `retry-queue list` and
`explain` read it there and answer whatever state a workflow is in. `retry` and `discard` are
signals to the shard workflows holding the records, so who and why stay in Temporal's history;
the shard applies them to the store. docs/flows.md gives the `temporal` CLI equivalent of each.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import re
import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from temporalio.client import Client

from client.commands.common import Temporal, connect, definitions_option, load, pick, temporal_options
from client.router import FlowRouter
from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from eventsync.http import ConnectionPool
from eventsync.signal.events import PlatformEvent
from eventsync.signal.sharding import workflow_id
from eventsync.store import ParkedRecord, open_store
from eventsync.store.watch import in_thread
from eventsync.touchpoint.flow import all_flows
from workflows.flow import OperatorAction, SignalShardWorkflow

REPLAY_CHUNK = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def known_flow(flow: str) -> str:
    """A flow the event store knows, or a usage error with the nearest names."""
    return pick("flow with events in the store", flow, open_store().flows())


def did_you_mean(name: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (defined: {', '.join(sorted(known)) or 'none'})"


def clean(text: str) -> str:
    """Vendor text as it may be printed: control characters (a terminal's escapes) made visible."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


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


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@click.group("retry-queue")
def retry_queue() -> None:
    """Records parked by a permanent failure (or exhausted retries), with later events held behind."""


@retry_queue.command("list")
@click.option("--flow", help="only this flow")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(flow: str | None, as_json: bool) -> None:
    """Every parked record, with why and how many later events wait behind it (from the store)."""
    if flow:
        known_flow(flow)
    rows = [asdict(p) for p in asyncio.run(parked(flow))]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("retry queue is empty")
    for row in rows:
        held = f", {row['held']} later event(s) held" if row["held"] else ""
        click.echo(
            f"{row['flow']}  {clean(row['record_key'])}  since {_when(row['since'])}  event {clean(row['event_id'])}  "
            f"attempts {row['attempts']}{held}: {clean(row['reason'])}"
        )


def _action(action: str) -> click.Command:
    @click.command(action)
    @click.option("--flow", help="the flow (default: every flow)")
    @click.option("--record", help="one record (default: every parked record)")
    @click.option("--all", "all_", is_flag=True, help="every parked record (required without --record)")
    @click.option("--by", default=getpass.getuser, show_default="current user", help="who, for the record")
    @click.option("--reason", default="", help="why, for the record")
    @temporal_options
    def cmd(
        flow: str | None, record: str | None, all_: bool, by: str, reason: str, temporal: Temporal
    ) -> None:
        if not record and not all_:
            raise click.UsageError("name a --record, or say --all")

        async def go() -> int:
            return await operate(await connect(temporal), action, flow, record, by, reason)

        if flow:
            known_flow(flow)
        if record:
            parked_keys = [p.record_key for p in asyncio.run(parked(flow))]
            pick(f"parked record{f' of flow {flow!r}' if flow else ''}", record, parked_keys)

        n = asyncio.run(go())
        if n == 0:
            what = f"record {record!r}" if record else "records"
            raise click.ClickException(
                f"no parked {what}{f' in flow {flow!r}' if flow else ''}: see `eventsync retry-queue list`"
            )
        click.echo(f"{action} sent to {n} shard workflow(s)")

    cmd.help = {
        "retry": "Re-send the parked event(s) and those held behind, in order.",
        "discard": "Drop the parked event(s) and those held behind, recording who and why.",
    }[action]
    return cmd


retry_queue.add_command(_action("retry"))
retry_queue.add_command(_action("discard"))


@click.command("explain")
@click.option("--flow", required=True)
@click.option("--record", required=True, help="registration code (or session:<code>)")
@click.option("--json", "as_json", is_flag=True)
def explain_cmd(flow: str, record: str, as_json: bool) -> None:
    """Why a record did or did not reach the destination: each decision, in order."""
    known_flow(flow)

    entries = asyncio.run(explain(flow, record))
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    if not entries:
        click.echo(f"flow {flow}: nothing known about record {record} (never received, or older than kept)")
    for e in entries:
        click.echo(f"{_when(e['at'])}  {e['event_type'] or '-'}  {clean(e['event_id'])}\n    {clean(describe(e))}")


def describe(e: dict[str, Any]) -> str:
    """One decision in words: what happened, by which rule, with the destination's answer."""
    answer = f"HTTP {e['status']}" if e.get("status") else ""
    detail = e.get("detail") or ""
    kind = e["decision"]
    # Native destinations say what they did with the record and under which id.
    vendor = ", ".join(
        x for x in (e.get("action"), f"id {e['vendor_id']}" if e.get("vendor_id") else None) if x
    )
    if vendor:
        answer = f"{answer} [{vendor}]".strip()
    if kind == "delivered":
        return f"activated ({e['rule']}) and delivered: {answer} {detail}".rstrip()
    if kind == "waiting":
        return f"waiting for the destination's quota reset (not counted as a failed attempt): {detail}"
    if kind == "skipped":
        return f"skipped: {e['rule']}"
    if kind == "retrying":
        return f"activated, not delivered yet: {answer} {detail}".rstrip()
    if kind == "parked":
        return f"PARKED: {answer} {detail}; later events wait (eventsync retry-queue)".replace("  ", " ")
    if kind == "held":
        return f"held: {detail}"
    if kind in ("retried", "discarded"):
        return f"{kind} by {e.get('by') or '?'}" + (f": {detail}" if detail else "")
    if kind == "duplicate":
        return "duplicate delivery of an event already received: ignored"
    if kind == "queued":
        return "stored, waiting for its turn (the record's earlier events go first)"
    return f"{kind} {answer} {detail}".strip()


def when(value: str, option: str) -> datetime:
    """An ISO 8601 time from the command line (naive = UTC), or a clear error naming the option."""
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not an ISO 8601 time: write e.g. 2026-11-01T00:00:00Z or 2026-11-01", param_hint=option
        ) from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


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
    from eventsync.keyring import keyring_from_env
    from eventsync.signal.replay import ReplayError, replay_events

    flows = {f.name: f for f in all_flows(defs)}
    flow = flows.get(flow_name)
    if flow is None:
        raise ReplayError(f"no flow named {flow_name!r}" + did_you_mean(flow_name, list(flows)))
    start, end = when(after, "--from"), when(before, "--to")
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
    from eventsync.signal.pump import decode

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


@click.command("replay")
@definitions_option
@click.option("--flow", "flow_name", required=True)
@click.option("--from", "after", required=True, help="ISO 8601 (naive = UTC): records modified after this")
@click.option("--to", "before", required=True, help="ISO 8601: and before this")
@click.option("--events", default="", help="comma-separated platform event codes (default: the flow's)")
@click.option("--task-queue", default=None, help="Task queue of the flow workflows (default: eventsync).")
@click.option(
    "--source",
    type=click.Choice(["auto", "store", "platform"]),
    default="auto",
    show_default=True,
    help="store: the events received in the window, as they came; platform: the records modified in it, "
    "as they are now; auto: the store while it holds the window",
)
@temporal_options
def replay_cmd(
    definitions_path: Path,
    flow_name: str,
    after: str,
    before: str,
    events: str,
    task_queue: str | None,
    source: str,
    temporal: Temporal,
) -> None:
    """Re-send a flow's records modified in a date range through the flow's usual path (same
    rules, mapping, ordering and retry queue), as events marked replay."""
    from eventsync.signal.replay import ReplayError
    from worker.registry import TASK_QUEUE

    when(after, "--from"), when(before, "--to")
    defs = load(definitions_path)
    codes = [c.strip() for c in events.split(",") if c.strip()] or None

    async def go() -> int:
        return await replay(
            await connect(temporal), defs, flow_name, after, before, codes, task_queue or TASK_QUEUE, source=source
        )

    from eventsync.http import HTTPCallError
    from eventsync.secrets import MissingSecretError

    try:
        n = asyncio.run(go())
    except (ReplayError, MissingSecretError, HTTPCallError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"replay of {flow_name}: {n} event(s) sent")


COMMANDS: list[click.Command] = [retry_queue, explain_cmd, replay_cmd]
