"""`eventsync serve`: the platform webhook receiver (client/receiver.py) under uvicorn.

Receivers keep nothing that matters between requests (Temporal holds it all), so several can run
side by side behind one address, each with the same definitions and secrets.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import click
import uvicorn
from temporalio.client import Client

from client.commands.common import address_option, definitions_option, fail, load, namespace_option, run
from eventsync.definitions import Definitions

SECRET_ENV = "EVENTSYNC_WEBHOOK_SECRET"
DEFAULT_PORT = 8700


def secrets_from_env(value: str | None) -> list[bytes]:
    """Comma-separated: several secrets are valid at once while one is rotated."""
    return [s.strip().encode() for s in (value or "").split(",") if s.strip()]


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host (`eventsync dev` stops it itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def receiver_server(
    defs: Definitions,
    secrets: list[bytes],
    connect: Callable[[], Awaitable[Client]],
    host: str,
    port: int,
    task_queue: str | None = None,
    embedded: bool = False,
) -> uvicorn.Server:
    from client.receiver import ReceiverSettings, create_app
    from worker.registry import TASK_QUEUE

    app = create_app(
        ReceiverSettings(
            definitions=defs, secrets=secrets, connect=connect, task_queue=task_queue or TASK_QUEUE
        )
    )
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    return EmbeddedServer(config) if embedded else uvicorn.Server(config)


@click.command()
@definitions_option
@address_option
@namespace_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True)
@click.option("--task-queue", default=None, help="Task queue of the flow workflows (default: eventsync).")
def serve(
    definitions_path: Path,
    address: str | None,
    namespace: str | None,
    host: str,
    port: int,
    task_queue: str | None,
) -> None:
    """Run the platform webhook receiver (POST /webhooks/platform, /healthz, /readyz).

    The signing secret is read from $EVENTSYNC_WEBHOOK_SECRET (comma-separate several while
    rotating); it is never written anywhere."""
    from worker.connect import connect

    defs = load(definitions_path)
    secrets = secrets_from_env(os.environ.get(SECRET_ENV))
    if not secrets:
        fail(f"set ${SECRET_ENV} to the platform's webhook signing secret")

    async def main() -> None:
        server = receiver_server(defs, secrets, lambda: connect(address, namespace), host, port, task_queue)
        click.echo(
            f"receiver on http://{host}:{port}/webhooks/platform ({len(defs.flows)} flow(s)); Ctrl-C stops"
        )
        await server.serve()

    run(main())
