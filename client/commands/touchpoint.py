"""`eventsync touchpoint reprocess|status|resume`: the "mass action" after tagging.

docs/touchpoint.md gives the `temporal` CLI equivalent of each command.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from datetime import datetime
from pathlib import Path

import click
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy
from temporalio.service import RPCError

from activities.context import content_hash
from client.commands.common import (
    address_option,
    definitions_option,
    fail,
    load,
    namespace_option,
    profile_env_option,
    run,
)
from client.queries import NoAnswer, ask
from eventsync.definitions import Definitions
from eventsync.logs import escape_controls
from eventsync.platform.api import Kind
from workflows import search_attributes as sa
from workflows.touchpoint import (
    ReprocessInput,
    ReprocessProgress,
    ResumeRequest,
    TouchpointReprocessWorkflow,
    workflow_id,
)


def check_since(value: str | None) -> str | None:
    if value is None:
        return None
    if value.isdigit():
        return value  # epoch milliseconds, as the platform takes them
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither ISO 8601 (2026-11-01T00:00:00Z) nor epoch milliseconds",
            param_hint="--since",
        ) from None
    return value


def reprocess_input(
    defs: Definitions, account: str, event: str, sessions: bool, registrants: bool, since: str | None
) -> ReprocessInput:
    tp = defs.touchpoint
    if tp is None:
        raise click.UsageError("the definitions have no `touchpoint:` block")
    if tp.account != account:
        raise click.UsageError(
            f"--account {account!r} but the touchpoint definition is for account {tp.account!r}"
        )
    if not sessions and not registrants:
        sessions, registrants = tp.sessions, tp.registrants
    kinds: list[Kind] = []
    if sessions:
        kinds.append("sessions")
    if registrants:
        kinds.append("registrants")
    if not kinds:
        raise click.UsageError("nothing to reprocess: the definition syncs neither sessions nor registrants")
    try:
        defs.connection(tp.platform), defs.connection(tp.connection)
    except KeyError as e:
        raise click.UsageError(f"touchpoint definition: {e.args[0]}") from None
    # Names only, and the hash of the definition as this file has it: the worker runs its own
    # definition and connections (docs/security.md) and parks the run if its definition differs.
    return ReprocessInput(
        name=tp.name,
        account=tp.account,
        event=event,
        kinds=kinds,
        since=since,
        definition_hash=content_hash(tp),
    )


async def start_reprocess(client: Client, inp: ReprocessInput, task_queue: str) -> WorkflowHandle:
    """Start the run, or attach to the one already running for this event."""
    return await client.start_workflow(
        TouchpointReprocessWorkflow.run,
        inp,
        id=workflow_id(inp.account, inp.event),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(sa.KIND, "touchpoint"),
                SearchAttributePair(sa.NAME, inp.name),
                SearchAttributePair(sa.ACCOUNT, inp.account),
                SearchAttributePair(sa.EVENT, inp.event),
            ]
        ),
    )


PARKED_EXIT = 3  # a followed reprocess parked: an operator must act


async def follow(
    handle: WorkflowHandle, kinds: list[Kind], every_s: float = 1.0, resume_hint: str = ""
) -> ReprocessProgress:
    """Follow a reprocess to its end: a progress bar on a terminal, plain lines otherwise. A run
    that parks ends the wait at once with the reason and the resume command (exit 3)."""
    from client.progress import Follow

    task = asyncio.ensure_future(handle.result())
    parked: ReprocessProgress | None = None
    with Follow(f"reprocess {handle.id}") as bar:
        while not task.done():
            p: ReprocessProgress | None = None
            try:
                p = await ask(handle, TouchpointReprocessWorkflow.progress)
            except Exception:  # a query may fail while the run continues-as-new; the next one answers
                pass
            if p is not None:
                known = all(k in p.totals for k in kinds)
                total = sum(p.totals[k] for k in kinds) if known else None
                bar.update(sum(p.read.get(k, 0) for k in kinds), total, p.line(kinds))
                if p.status == "parked":
                    parked = p
                    break
            await asyncio.wait({task}, timeout=every_s)
    if parked is not None:
        task.cancel()
        fail(
            f"reprocess {handle.id} parked: {escape_controls(parked.parked_reason or '')}\n"
            f"  fix the cause, then: eventsync touchpoint resume {resume_hint}".rstrip(),
            code=PARKED_EXIT,
        )
    result: ReprocessProgress = task.result()
    click.echo(result.line(kinds))
    return result


@click.group()
def touchpoint() -> None:
    """Platform → Touchpoint: reprocess an event, watch it, resume a parked run."""


@touchpoint.command()
@click.option("--account", required=True, help="platform account code")
@click.option("--event", required=True, help="event id (stable, recommended) or event code")
@click.option("--sessions", is_flag=True, help="re-sync sessions (default: both, as the definition allows)")
@click.option("--registrants", is_flag=True, help="re-sync registrants")
@click.option("--since", default=None, help="only records modified after this (ISO 8601 or epoch ms)")
@click.option("--wait/--no-wait", default=True, show_default=True, help="follow progress until done")
@click.option("--task-queue", default=None, help="worker task queue (default: eventsync)")
@definitions_option
@address_option
@namespace_option
@profile_env_option
def reprocess(
    account: str,
    event: str,
    sessions: bool,
    registrants: bool,
    since: str | None,
    wait: bool,
    task_queue: str | None,
    definitions_path: Path,
    address: str | None,
    namespace: str | None,
) -> None:
    """Page through the platform and re-sync every session and/or registrant of an event."""
    from worker.connect import connect
    from worker.registry import TASK_QUEUE

    inp = reprocess_input(load(definitions_path), account, event, sessions, registrants, check_since(since))

    async def main() -> None:
        client = await connect(address, namespace)
        handle = await start_reprocess(client, inp, task_queue or TASK_QUEUE)
        click.echo(
            f"reprocess {handle.id} (run {handle.result_run_id}); Web UI: search EventsyncKind='touchpoint'"
        )
        if wait:
            p = await follow(handle, inp.kinds, resume_hint=f"--account {account} --event {event}")
            if p.problems:
                click.echo(f"{len(p.problems)} problem(s), first ones:")
                for line in p.problems[:20]:
                    click.echo(f"  {escape_controls(line)}")

    run(main())


@touchpoint.command()
@click.option("--account", required=True)
@click.option("--event", required=True)
@click.option("--json", "as_json", is_flag=True)
@address_option
@namespace_option
@profile_env_option
def status(account: str, event: str, as_json: bool, address: str | None, namespace: str | None) -> None:
    """Progress of the latest reprocess of an event."""
    from worker.connect import connect

    async def main() -> None:
        client = await connect(address, namespace)
        handle = client.get_workflow_handle(workflow_id(account, event))
        try:
            p: ReprocessProgress = await ask(handle, TouchpointReprocessWorkflow.progress)
        except NoAnswer as e:
            fail(f"reprocess of {account}/{event}: {e}")
            return
        except RPCError as e:
            fail(f"no reprocess for {account}/{event}: {e}")
            return
        if as_json:
            click.echo(json.dumps(p.model_dump(), indent=2))
        else:
            click.echo(p.line(["sessions", "registrants"]))
            if p.definition_hash:
                click.echo(f"  definition {p.definition_hash}")
            for line in p.problems[:20]:
                click.echo(f"  {escape_controls(line)}")

    run(main())


@touchpoint.command()
@click.option("--account", required=True)
@click.option("--event", required=True)
@address_option
@namespace_option
@profile_env_option
def resume(account: str, event: str, address: str | None, namespace: str | None) -> None:
    """Resume a parked reprocess (after fixing what parked it) from its checkpoint."""
    from worker.connect import connect

    async def main() -> None:
        client = await connect(address, namespace)
        handle = client.get_workflow_handle(workflow_id(account, event))
        await handle.signal(TouchpointReprocessWorkflow.on_resume, ResumeRequest(by=getpass.getuser()))
        click.echo(f"resume sent to {handle.id}")

    run(main())


COMMANDS: list[click.Command] = [touchpoint]
