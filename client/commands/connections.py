"""`eventsync connections list|test`."""

from __future__ import annotations

import uuid
from pathlib import Path

import click

from client.commands.common import (
    Temporal,
    connect,
    definitions_option,
    fail,
    load,
    pick,
    run,
    temporal_options,
)
from eventsync.connectors.check import NoTestPath, check_connection, check_path
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
@click.option(
    "--account",
    default=None,
    help="Platform connections: the account code to read (default: the first one the flows, "
    "touchpoint block or fetch targets using the connection name).",
)
@temporal_options
def test(
    name: str, definitions_path: Path, via_worker: bool, account: str | None, temporal: Temporal
) -> None:
    """Authenticate and make the connection's cheapest read; print OK or the vendor's error.

    temporal equivalent (--via-worker): temporal workflow execute --type ConnectionCheckWorkflow
    --task-queue eventsync --input '"NAME"' --codec-endpoint URL
    (the worker resolves NAME from its own definitions)
    """
    defs = load(definitions_path)
    connection = defs.connection(pick("connection", name, (c.name for c in defs.connections)))
    if account is None:
        account = next(iter(defs.platform_accounts(connection.name)), None)

    async def local() -> tuple[bool, str]:
        pool = ConnectionPool()
        try:
            result = await check_connection(pool, connection, account)
        finally:
            await pool.aclose()
        return result.ok, result.message

    async def remote() -> tuple[bool, str]:
        from worker.registry import TASK_QUEUE
        from workflows.connection_check import ConnectionCheckWorkflow

        try:
            check_path(connection, account)  # a connection with nothing to test says so here
        except NoTestPath as err:
            return False, str(err)
        client = await connect(temporal)
        result = await client.execute_workflow(
            ConnectionCheckWorkflow.run,
            name,  # a name: the worker resolves it (and the account it tests) from its own definitions
            id=f"connection-test-{name}-{uuid.uuid4().hex[:8]}",
            task_queue=TASK_QUEUE,
        )
        return result.ok, result.message

    ok, message = run(remote() if via_worker else local())
    if not ok:
        fail(f"FAILED {name}: {message}")
    click.secho(f"{name}: {message}", fg="green")
