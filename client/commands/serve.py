"""`eventsync serve`: the platform webhook receiver (client/receiver.py) under uvicorn.

Receivers keep nothing that matters between requests (Temporal holds it all), so several can run
side by side behind one address, each with the same definitions and secrets.
"""

from __future__ import annotations

import contextlib
import os
import secrets as _random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import click
import uvicorn
from temporalio.client import Client

from client.commands.common import (
    Temporal,
    connect,
    definitions_option,
    fail,
    load,
    observe,
    require_codec_keys,
    run,
    temporal_options,
)
from eventsync.definitions import Definitions
from eventsync.settings import SettingError, env_or_file

SECRET_ENV = "EVENTSYNC_WEBHOOK_SECRETS"
SECRET_FILE_ENV = "EVENTSYNC_WEBHOOK_SECRETS_FILE"
DEFAULT_PORT = 8700


def secrets_from_env(value: str | None) -> list[bytes]:
    """Comma- or line-separated: several secrets are valid at once while one is rotated."""
    return [s.strip().encode() for line in (value or "").splitlines() for s in line.split(",") if s.strip()]


def configured_secrets() -> list[bytes]:
    """From $EVENTSYNC_WEBHOOK_SECRETS_FILE (a mounted secret) or $EVENTSYNC_WEBHOOK_SECRETS."""
    try:
        return secrets_from_env(env_or_file(SECRET_ENV))
    except SettingError as err:
        fail(str(err))


def dashboard_only_secrets() -> list[bytes]:
    """For `serve --dashboard-only`: one random secret that lives in this process alone, so the
    webhook route verifies against something and accepts nothing (every delivery is 401); the
    process never holds the platform's secret."""
    return [_random.token_bytes(32)]


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
    # uvloop and httptools (pinned): the receiver's HTTP stack was 41 % of its CPU on asyncio + h11.
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, loop="uvloop", http="httptools"
    )
    return EmbeddedServer(config) if embedded else uvicorn.Server(config)


@click.command()
@definitions_option
@temporal_options
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 in a container.")
@click.option("--port", default=DEFAULT_PORT, show_default=True)
@click.option("--task-queue", default=None, help="Task queue of the flow workflows (default: eventsync).")
@click.option(
    "--dashboard-only",
    is_flag=True,
    help="Serve the dashboard and health checks, accept no webhook: needs no webhook secret, and "
    "needs the dashboard token ($EVENTSYNC_DASHBOARD_TOKEN[_FILE]). The deploy/ dashboard role.",
)
def serve(
    definitions_path: Path,
    temporal: Temporal,
    host: str,
    port: int,
    task_queue: str | None,
    dashboard_only: bool,
) -> None:
    """Run the platform webhook receiver (POST /webhooks/platform, /healthz, /readyz).

    The signing secret is read from $EVENTSYNC_WEBHOOK_SECRETS or the file named by
    $EVENTSYNC_WEBHOOK_SECRETS_FILE (comma-separate several while rotating); it is never
    written anywhere. Stateless: run several side by side."""

    require_codec_keys("serve")
    defs = load(definitions_path)
    from client.dashboard import SWITCH_ENV, token_from_env

    try:
        dashboard_token = token_from_env()  # checked before the app: a bad setting is one line
    except SettingError as err:
        fail(str(err))
    if dashboard_only:
        if not dashboard_token or os.environ.get(SWITCH_ENV, "").lower() in ("off", "0", "false", "no"):
            fail("--dashboard-only serves the dashboard: set $EVENTSYNC_DASHBOARD_TOKEN (or _FILE)")
        secrets = dashboard_only_secrets()
    else:
        secrets = configured_secrets()
    if not secrets:
        fail(f"set ${SECRET_ENV} (or ${SECRET_FILE_ENV}) to the platform's webhook signing secret(s)")
    observe("eventsync-receiver")

    async def main() -> None:
        server = receiver_server(defs, secrets, lambda: connect(temporal), host, port, task_queue)
        click.echo(
            f"receiver on http://{host}:{port}/webhooks/platform ({len(defs.flows)} flow(s)); Ctrl-C stops"
        )
        await server.serve()

    run(main())
