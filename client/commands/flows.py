"""`eventsync retry-queue list|retry|discard`, `eventsync explain`, `eventsync replay`.

Each talks to the flow shard workflows through signals and queries; docs/flows.md gives the
`temporal` CLI equivalent of every action.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from client.commands.common import definitions_option, load
from client.queries import NoAnswer, ask
from eventsync.definitions import Definitions
from eventsync.http import ConnectionPool
from eventsync.signal.events import PlatformEvent
from workflows.flow import FlowShardWorkflow, OperatorAction, ShardSummary

REPLAY_CHUNK = 1000


def _q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


async def shard_ids(client: Client, flow: str | None, running_only: bool = True) -> list[str]:
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


async def parked(client: Client, flow: str | None) -> list[ShardSummary]:
    out = []
    for wid in await shard_ids(client, flow):
        s: ShardSummary = await ask(client.get_workflow_handle(wid), FlowShardWorkflow.summary)
        if s.parked:
            out.append(s)
    return out


async def operate(
    client: Client, action: str, flow: str | None, record: str | None, by: str, reason: str
) -> int:
    """Send `retry` or `discard` to every running shard of the flow (or of every flow); a shard
    not holding the record ignores it. Returns how many shards were told."""
    ids = await shard_ids(client, flow)
    sig = FlowShardWorkflow.on_retry if action == "retry" else FlowShardWorkflow.on_discard
    await asyncio.gather(
        *(
            client.get_workflow_handle(w).signal(sig, OperatorAction(record=record, by=by, reason=reason))
            for w in ids
        )
    )
    return len(ids)


async def explain(client: Client, flow: str, record: str) -> list[dict[str, Any]]:
    """Decisions about one record across the flow's shard runs (running and recently finished)."""
    query = f"EventsyncKind='flow' AND EventsyncName={_q(flow)}"
    seen: set[tuple[str, str, float]] = set()
    entries: list[dict[str, Any]] = []
    async for wf in client.list_workflows(query, limit=50):
        if wf.status not in (
            WorkflowExecutionStatus.RUNNING,
            WorkflowExecutionStatus.COMPLETED,
            WorkflowExecutionStatus.CONTINUED_AS_NEW,
        ):
            continue
        try:
            got = await ask(client.get_workflow_handle(wf.id, run_id=wf.run_id), FlowShardWorkflow.explain, record)
        except (NoAnswer, RPCError):  # a run that cannot be queried (no worker) has nothing to add
            continue
        for e in got:
            key = (e.event_id, e.decision, e.at)
            if key not in seen:
                seen.add(key)
                entries.append({"shard": wf.id, **e.model_dump()})
    return sorted(entries, key=lambda e: e["at"])


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


@click.group("retry-queue")
def retry_queue() -> None:
    """Records parked by a permanent failure (or exhausted retries), with later events held behind."""


@retry_queue.command("list")
@click.option("--flow", help="only this flow")
@click.option("--json", "as_json", is_flag=True)
def list_cmd(flow: str | None, as_json: bool) -> None:
    async def go() -> list[ShardSummary]:
        from worker.connect import connect

        return await parked(await connect(), flow)

    shards = asyncio.run(go())
    rows = [
        {"flow": s.flow, "shard": s.shard, "record": r, **p.model_dump()}
        for s in shards
        for r, p in s.parked.items()
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("retry queue is empty")
    for row in rows:
        click.echo(
            f"{row['flow']}  {row['record']}  since {_when(row['since'])}  event {row['event_id']}  "
            f"attempts {row['attempts']}: {row['reason']}"
        )


def _action(action: str) -> click.Command:
    @click.command(action)
    @click.option("--flow", help="the flow (default: every flow)")
    @click.option("--record", help="one record (default: every parked record)")
    @click.option("--all", "all_", is_flag=True, help="every parked record (required without --record)")
    @click.option("--by", default=getpass.getuser, show_default="current user", help="who, for the record")
    @click.option("--reason", default="", help="why, for the record")
    def cmd(flow: str | None, record: str | None, all_: bool, by: str, reason: str) -> None:
        if not record and not all_:
            raise click.UsageError("name a --record, or say --all")

        async def go() -> int:
            from worker.connect import connect

            return await operate(await connect(), action, flow, record, by, reason)

        n = asyncio.run(go())
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

    async def go() -> list[dict[str, Any]]:
        from worker.connect import connect

        return await explain(await connect(), flow, record)

    entries = asyncio.run(go())
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    if not entries:
        click.echo(f"flow {flow}: nothing known about record {record} (never received, or older than kept)")
    for e in entries:
        click.echo(f"{_when(e['at'])}  {e['event_type'] or '-'}  {e['event_id']}\n    {describe(e)}")


def describe(e: dict[str, Any]) -> str:
    """One decision in words: what happened, by which rule, with the destination's answer."""
    answer = f"HTTP {e['status']}" if e.get("status") else ""
    detail = e.get("detail") or ""
    kind = e["decision"]
    # Native destinations say what they did with the record and under which id (issue 7).
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
    return f"{kind} {answer} {detail}".strip()


async def replay(
    client: Client,
    defs: Definitions,
    flow_name: str,
    after: str,
    before: str,
    event_codes: list[str] | None,
    task_queue: str,
    pool: ConnectionPool | None = None,
) -> int:
    """Read the flow's registrations modified in (after, before) from the platform and send them
    through the router in chunks; returns how many were sent. Nothing is read all at once."""
    from client.router import FlowRouter
    from eventsync.signal.replay import ReplayError, replay_events

    flow = next((f for f in defs.flows if f.name == flow_name), None)
    if flow is None:
        raise ReplayError(f"no flow named {flow_name!r} (defined: {', '.join(f.name for f in defs.flows)})")
    if not flow.source.connection:
        raise ReplayError(f"flow {flow_name!r}: replay reads the platform API; give source.connection")
    own_pool = pool is None
    pool = pool or ConnectionPool()
    try:
        platform = pool.client(defs.connection(flow.source.connection))
        router = FlowRouter(client, defs, task_queue)
        sent = 0
        chunk: list[PlatformEvent] = []
        async for ev in replay_events(flow, platform, after, before, event_codes):
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


@click.command("replay")
@definitions_option
@click.option("--flow", "flow_name", required=True)
@click.option("--from", "after", required=True, help="ISO 8601 (naive = UTC): records modified after this")
@click.option("--to", "before", required=True, help="ISO 8601: and before this")
@click.option("--events", default="", help="comma-separated platform event codes (default: the flow's)")
@click.option("--task-queue", default=None, help="Task queue of the flow workflows (default: eventsync).")
def replay_cmd(
    definitions_path: Path, flow_name: str, after: str, before: str, events: str, task_queue: str | None
) -> None:
    """Re-send a flow's records modified in a date range through the flow's usual path (same
    rules, mapping, ordering and retry queue), as events marked replay."""
    from eventsync.signal.replay import ReplayError
    from worker.connect import connect
    from worker.registry import TASK_QUEUE

    defs = load(definitions_path)
    codes = [c.strip() for c in events.split(",") if c.strip()] or None

    async def go() -> int:
        return await replay(await connect(), defs, flow_name, after, before, codes, task_queue or TASK_QUEUE)

    try:
        n = asyncio.run(go())
    except ReplayError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"replay of {flow_name}: {n} record(s) sent")


COMMANDS: list[click.Command] = [retry_queue, explain_cmd, replay_cmd]
