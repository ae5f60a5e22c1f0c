"""`eventsync connections list|test`."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from client.commands.common import address_option, definitions_option, fail, load, namespace_option, run
from eventsync.connectors.check import check_connection
from eventsync.http import ConnectionPool


@click.group()
def connections() -> None:
    """Connections: list them, test them (the "Save & Test")."""


@connections.command("list")
@definitions_option
def list_(definitions_path: Path) -> None:
    """List the defined connections (secret references, never values)."""
    for c in load(definitions_path).connections:
        click.echo(f"{c.name}\t{c.vendor}\t{c.auth.kind}\t{c.base_url}")


@connections.command()
@click.argument("name")
@definitions_option
@click.option(
    "--via-worker",
    is_flag=True,
    help="Run the test on a worker (with the worker's secrets) through Temporal.",
)
@address_option
@namespace_option
def test(
    name: str, definitions_path: Path, via_worker: bool, address: str | None, namespace: str | None
) -> None:
    """Authenticate and make the connection's cheapest read; print OK or the vendor's error.

    temporal equivalent (--via-worker): temporal workflow execute --type ConnectionCheckWorkflow
    --task-queue eventsync --input '"NAME"' --codec-endpoint URL
    (the worker resolves NAME from its own definitions)
    """
    defs = load(definitions_path)
    try:
        connection = defs.connection(name)
    except KeyError as err:
        fail(str(err.args[0]))
        return

    async def local() -> tuple[bool, str]:
        pool = ConnectionPool()
        try:
            result = await check_connection(pool, connection)
        finally:
            await pool.aclose()
        return result.ok, result.message

    async def remote() -> tuple[bool, str]:
        from worker.connect import connect
        from worker.registry import TASK_QUEUE
        from workflows.connection_check import ConnectionCheckWorkflow

        client = await connect(address, namespace)
        result = await client.execute_workflow(
            ConnectionCheckWorkflow.run,
            name,  # a name: the worker resolves it from its own definitions and secrets
            id=f"connection-test-{name}-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )
        return result.ok, result.message

    ok, message = run(remote() if via_worker else local())
    if not ok:
        fail(f"FAILED {name}: {message}")
    click.secho(f"{name}: {message}", fg="green")
