"""`eventsync fetch …`: run and operate API Fetch syncs (docs/fetch.md lists the `temporal` CLI
equivalent of each command)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from client.commands.common import (
    address_option,
    definitions_option,
    fail,
    load,
    namespace_option,
    profile_env_option,
    run,
)
from eventsync.logs import escape_controls

T = TypeVar("T")


def _do(address: str | None, namespace: str | None, action: Callable[[Any], Awaitable[T]]) -> T:
    from client.fetch_control import FetchControlError
    from worker.connect import connect

    async def main() -> T:
        return await action(await connect(address, namespace))

    try:
        return run(main())
    except FetchControlError as e:
        fail(str(e))
        raise AssertionError("unreachable") from e


def _fetch_def(path: Path, name: str, defs: Any = None) -> Any:
    import difflib

    defs = defs if defs is not None else load(path)
    for f in defs.fetches:
        if f.name == name:
            return f
    names = [f.name for f in defs.fetches]
    close = difflib.get_close_matches(name, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f" (defined: {', '.join(names) or 'none'})"
    fail(f"no fetch named {name!r} in {path}{hint}")


@click.group()
def fetch() -> None:
    """API Fetch: scheduled, checkpointed pulls from REST sources."""


@fetch.command("run")
@click.argument("name")
@definitions_option
@address_option
@namespace_option
@profile_env_option
@click.option(
    "--wait/--no-wait",
    default=False,
    help="Follow the run (progress) and print its result; exit 3 at once if it parks.",
)
@click.option("--task-queue", default=None, help="Task queue of the fetch workers (default: eventsync).")
def run_cmd(
    name: str,
    definitions_path: Path,
    address: str | None,
    namespace: str | None,
    wait: bool,
    task_queue: str | None,
) -> None:
    """Start a run of NAME now (refused while one is running). Applies NAME's definition first."""
    from client import fetch_control as fc
    from client.schedules import put_schedule, run_input
    from worker.registry import TASK_QUEUE

    defs = load(definitions_path)
    fetch_def = _fetch_def(definitions_path, name, defs)

    async def action(client: Any) -> str:
        await put_schedule(client, fetch_def, run_input(defs, fetch_def), task_queue or TASK_QUEUE)
        handle = await fc.run_now(client, name)
        if not wait:
            return f"started {handle.id}"
        from client.progress import Follow

        click.echo(f"started {handle.id}")
        parked: fc.RunParked | None = None
        with Follow(f"fetch {name}") as bar:

            def moved(p: Any) -> None:
                c = p.counts
                bar.update(c.fetched, p.total, f"{c.pages} pages, {c.applied} applied, {c.rejected} rejected")

            try:
                result = await fc.follow(client, name, handle.id, moved)
                c = result.counts
                bar.update(
                    c.fetched, c.fetched, f"{c.pages} pages, {c.applied} applied, {c.rejected} rejected"
                )
            except fc.RunParked as e:
                parked = e
        if parked is not None:
            fail(str(parked), code=PARKED_EXIT)
        return f"{handle.id}: {_result_text(result)}"

    click.echo(_do(address, namespace, action))


PARKED_EXIT = 3  # `fetch run --wait` met a parked run: an operator must act


def _position_text(position: Any) -> str:
    """A position as an operator reads it: `page 3`, `offset 200`, `cursor abc`, `next URL …`."""
    parts = []
    d = position.model_dump(exclude_defaults=True)
    for key, label in (("page", "page"), ("offset", "offset"), ("cursor", "cursor"), ("url", "next URL")):
        if key in d:
            parts.append(f"{label} {d[key]}")
    if "keyset" in d:
        parts.append(f"from {d['keyset']} (skipping {position.skip} already read)")
    return ", ".join(parts) or "the first page"


def _value(value: Any) -> str:
    return "none yet" if value is None else str(value)


def _when(t: datetime) -> str:
    return t.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def _result_text(result: Any) -> str:
    c = result.counts
    text = (
        f"{result.status}; {c.pages} pages, {c.fetched} fetched, {c.applied} applied, {c.rejected} rejected; "
        f"checkpoint {_value(result.carry.checkpoint)}"
    )
    if result.carry.resume is not None:
        text += f" (next run continues at {_position_text(result.carry.resume)})"
    if getattr(result, "definition_hash", None):
        text += f"; definition {result.definition_hash}"
    for change in getattr(result, "definition_changes", []):
        text += f"\n  resumed with definition {change.current} (was {change.previous or 'unpinned'})"
    for r in c.rejections[:10]:
        text += f"\n  rejected {r.key or '?'}: {r.reason}"
    return text


@fetch.command()
@click.argument("name")
@address_option
@namespace_option
@profile_env_option
def status(name: str, address: str | None, namespace: str | None) -> None:
    """Checkpoint, pages, records, last error, and the next scheduled time of NAME."""
    from client import fetch_control as fc

    st = _do(address, namespace, lambda c: fc.status(c, name))
    click.echo(
        f"fetch {name}: schedule {'paused' if st.paused else 'active'}{' (' + st.note + ')' if st.note else ''}"
    )
    if st.paused:
        click.echo("  next runs: none while paused (`eventsync fetch run` still starts one)")
    else:
        click.echo("  next runs: " + (", ".join(_when(t) for t in st.next_runs) or "none scheduled"))
    if st.running is not None:
        p = st.running
        c = p.counts
        click.echo(f"  running: {st.running_id} — {p.status}")
        click.echo(
            f"    checkpoint {_value(p.checkpoint)}, reading from {_value(p.window)}, at {_position_text(p.position)}"
        )
        of = f" of {p.total}" if p.total is not None else ""
        click.echo(
            f"    {c.pages} pages, {c.fetched}{of} fetched, {c.applied} applied, {c.rejected} rejected"
        )
        if p.definition_hash:
            click.echo(f"    definition {p.definition_hash}")
        for change in p.definition_changes:
            click.echo(f"    resumed with definition {change.current} (was {change.previous or 'unpinned'})")
        if p.last_error:
            label = "parked on" if p.status == "parked" else "last error"
            click.echo(f"    {label}: {escape_controls(p.last_error)}")
        if p.status == "parked":
            click.echo(
                f"    fix the cause, then: eventsync fetch resume {name}  (runs the worker's current definition)"
            )
    elif st.running_id is not None:
        click.echo(f"  running: {st.running_id} — progress unknown: {st.unanswered}")
    if st.last_id is not None:
        click.echo(f"  last run: {st.last_id} — {st.last_state}")
        if st.last is not None:
            click.echo("    " + _result_text(st.last).replace("\n", "\n    "))


@fetch.command()
@click.argument("name")
@address_option
@namespace_option
@profile_env_option
def resume(name: str, address: str | None, namespace: str | None) -> None:
    """Resume NAME's parked run (after fixing the cause); it retries the page it parked on."""
    from client import fetch_control as fc

    click.echo(f"resumed {_do(address, namespace, lambda c: fc.resume(c, name))}")


@fetch.command()
@click.argument("name")
@address_option
@namespace_option
@profile_env_option
def cancel(name: str, address: str | None, namespace: str | None) -> None:
    """Cancel NAME's run; it ends with the checkpoint of the pages already applied."""
    from client import fetch_control as fc

    click.echo(f"cancel requested for {_do(address, namespace, lambda c: fc.cancel(c, name))}")


@fetch.command()
@click.argument("name")
@click.option("--checkpoint", "value", default=None, help="Value the next run starts from.")
@click.option("--initial", is_flag=True, help="Start again from the definition's initial value.")
@definitions_option
@address_option
@namespace_option
@profile_env_option
def reset(
    name: str,
    value: str | None,
    initial: bool,
    definitions_path: Path,
    address: str | None,
    namespace: str | None,
) -> None:
    """Make NAME's next run start from --checkpoint VALUE (or --initial)."""
    from client import fetch_control as fc

    if (value is None) == (not initial):
        fail("give exactly one of --checkpoint VALUE or --initial")
    fetch_def = _fetch_def(definitions_path, name)
    req = _do(address, namespace, lambda c: fc.reset(c, name, value, fetch_def))
    click.echo(
        f"fetch {name}: next run starts from {req.checkpoint if req.checkpoint is not None else 'the initial value'}"
    )


@fetch.group()
def schedule() -> None:
    """Pause, unpause, trigger or backfill a fetch's schedule."""


@schedule.command()
@click.argument("name")
@click.option("--note", default="paused with eventsync fetch schedule pause")
@address_option
@namespace_option
@profile_env_option
def pause(name: str, note: str, address: str | None, namespace: str | None) -> None:
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.pause(c, name, note))
    click.echo(f"fetch {name}: schedule paused")


@schedule.command()
@click.argument("name")
@click.option("--note", default="unpaused with eventsync fetch schedule unpause")
@address_option
@namespace_option
@profile_env_option
def unpause(name: str, note: str, address: str | None, namespace: str | None) -> None:
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.unpause(c, name, note))
    click.echo(f"fetch {name}: schedule unpaused")


@schedule.command("trigger")
@click.argument("name")
@address_option
@namespace_option
@profile_env_option
def trigger_cmd(name: str, address: str | None, namespace: str | None) -> None:
    """Start a run now (refused while one is running)."""
    from client import fetch_control as fc

    handle = _do(address, namespace, lambda c: fc.run_now(c, name))
    click.echo(f"started {handle.id}")


@schedule.command()
@click.argument("name")
@click.option("--start", type=click.DateTime(), required=True)
@click.option("--end", type=click.DateTime(), required=True)
@address_option
@namespace_option
@profile_env_option
def backfill(name: str, start: datetime, end: datetime, address: str | None, namespace: str | None) -> None:
    """Run the schedule's actions for START..END now, one after another."""
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.backfill(c, name, start, end))
    click.echo(f"fetch {name}: backfill {start.isoformat()} .. {end.isoformat()} requested")
