"""`eventsync retry-queue list|retry|discard`, `eventsync explain`, `eventsync replay`: the
commands and their words, over the operations in client/flow_control.py. docs/flows.md gives the
`temporal` CLI equivalent of each."""

from __future__ import annotations

import asyncio
import getpass
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from client.commands.common import (
    Temporal,
    connect,
    definitions_option,
    load,
    pick,
    temporal_options,
)
from client.flow_control import explain, operate, parked, parse_time, replay
from eventsync.logs import escape_controls
from eventsync.store import open_store


def known_flow(flow: str) -> str:
    """A flow the event store knows, or a usage error with the nearest names."""
    return pick("flow with events in the store", flow, open_store().flows())


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
            f"{row['flow']}  {escape_controls(row['record_key'])}  since {_when(row['since'])}  event {escape_controls(row['event_id'])}  "
            f"attempts {row['attempts']}{held}: {escape_controls(row['reason'])}"
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
        click.echo(
            f"{_when(e['at'])}  {e['event_type'] or '-'}  {escape_controls(e['event_id'])}\n    {escape_controls(describe(e))}"
        )


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
        return parse_time(value)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint=option) from None


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
    from eventsync.flows.replay import ReplayError
    from worker.registry import TASK_QUEUE

    when(after, "--from"), when(before, "--to")
    defs = load(definitions_path)
    codes = [c.strip() for c in events.split(",") if c.strip()] or None

    async def go() -> int:
        return await replay(
            await connect(temporal),
            defs,
            flow_name,
            after,
            before,
            codes,
            task_queue or TASK_QUEUE,
            source=source,
        )

    from eventsync.http import HTTPCallError
    from eventsync.secrets import MissingSecretError

    try:
        n = asyncio.run(go())
    except (ReplayError, MissingSecretError, HTTPCallError) as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"replay of {flow_name}: {n} event(s) sent")


COMMANDS: list[click.Command] = [retry_queue, explain_cmd, replay_cmd]
