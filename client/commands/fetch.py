"""`eventsync fetch …`: run and operate API Fetch syncs (docs/fetch.md lists the `temporal` CLI
equivalent of each command)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from client.commands.common import address_option, definitions_option, fail, load, namespace_option, run

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
@click.option("--wait/--no-wait", default=False, help="Wait for the run to end and print its result.")
def run_cmd(
    name: str, definitions_path: Path, address: str | None, namespace: str | None, wait: bool
) -> None:
    """Start a run of NAME now (refused while one is running). Applies NAME's definition first."""
    from client import fetch_control as fc
    from client.schedules import put_schedule, run_input

    defs = load(definitions_path)
    fetch_def = _fetch_def(definitions_path, name, defs)

    async def action(client: Any) -> str:
        await put_schedule(client, fetch_def, run_input(defs, fetch_def))
        handle = await fc.run_now(client, name)
        if not wait:
            return f"started {handle.id}"
        result = await handle.result()
        return f"{handle.id}: {_result_text(result)}"

    click.echo(_do(address, namespace, action))


def _result_text(result: Any) -> str:
    c = result.counts
    text = (
        f"{result.status}; {c.pages} pages, {c.fetched} fetched, {c.applied} applied, {c.rejected} rejected; "
        f"checkpoint {result.carry.checkpoint}"
    )
    if result.carry.resume is not None:
        text += f" (next run continues at {result.carry.resume.model_dump(exclude_defaults=True)})"
    for r in c.rejections[:10]:
        text += f"\n  rejected {r.key or '?'}: {r.reason}"
    return text


@fetch.command()
@click.argument("name")
@address_option
@namespace_option
def status(name: str, address: str | None, namespace: str | None) -> None:
    """Checkpoint, pages, records, last error, and the next scheduled time of NAME."""
    from client import fetch_control as fc

    st = _do(address, namespace, lambda c: fc.status(c, name))
    click.echo(
        f"fetch {name}: schedule {'paused' if st.paused else 'active'}{' (' + st.note + ')' if st.note else ''}"
    )
    click.echo("  next runs: " + (", ".join(t.isoformat() for t in st.next_runs) or "none scheduled"))
    if st.running is not None:
        p = st.running
        c = p.counts
        click.echo(f"  running: {st.running_id} — {p.status}")
        click.echo(
            f"    checkpoint {p.checkpoint}, window {p.window}, position {p.position.model_dump(exclude_defaults=True)}"
        )
        click.echo(f"    {c.pages} pages, {c.fetched} fetched, {c.applied} applied, {c.rejected} rejected")
        if p.last_error:
            click.echo(f"    last error: {p.last_error}")
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
def resume(name: str, address: str | None, namespace: str | None) -> None:
    """Resume NAME's parked run (after fixing the cause); it retries the page it parked on."""
    from client import fetch_control as fc

    click.echo(f"resumed {_do(address, namespace, lambda c: fc.resume(c, name))}")


@fetch.command()
@click.argument("name")
@address_option
@namespace_option
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
def pause(name: str, note: str, address: str | None, namespace: str | None) -> None:
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.pause(c, name, note))
    click.echo(f"fetch {name}: schedule paused")


@schedule.command()
@click.argument("name")
@click.option("--note", default="unpaused with eventsync fetch schedule unpause")
@address_option
@namespace_option
def unpause(name: str, note: str, address: str | None, namespace: str | None) -> None:
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.unpause(c, name, note))
    click.echo(f"fetch {name}: schedule unpaused")


@schedule.command("trigger")
@click.argument("name")
@address_option
@namespace_option
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
def backfill(name: str, start: datetime, end: datetime, address: str | None, namespace: str | None) -> None:
    """Run the schedule's actions for START..END now, one after another."""
    from client import fetch_control as fc

    _do(address, namespace, lambda c: fc.backfill(c, name, start, end))
    click.echo(f"fetch {name}: backfill {start.isoformat()} .. {end.isoformat()} requested")
