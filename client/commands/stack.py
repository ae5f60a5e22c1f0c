"""`eventsync worker`, `eventsync apply` and `eventsync dev` (the whole local stack)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from pathlib import Path
from typing import Any

import click
import uvicorn

from client.apply import apply as apply_definitions
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
from client.commands.serve import DEFAULT_PORT as RECEIVER_PORT
from client.commands.serve import SECRET_ENV, receiver_server, secrets_from_env
from client.devserver import DevServer
from eventsync.definitions import Definitions

DEV_SECRET = "eventsync-dev-secret"  # only for `eventsync dev` on loopback when none is set


def _stop_event() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@click.command()
@definitions_option
@temporal_options
@click.option("--task-queue", default=None, help="Task queue to poll (default: eventsync).")
def worker(definitions_path: Path, temporal: Temporal, task_queue: str | None) -> None:
    """Run a worker against any Temporal (TEMPORAL_ADDRESS or envconfig profile). The worker
    loads the definitions itself: workflows name connections, flows and fetches; it resolves them."""
    from worker.main import run_worker
    from worker.registry import TASK_QUEUE

    require_codec_keys("worker")
    observe("eventsync-worker")
    defs = load(definitions_path) if definitions_path.exists() else None
    if defs is None:
        click.echo(f"(no definitions at {definitions_path}: only connection-free work will run)", err=True)

    async def main() -> None:
        stop = _stop_event()
        client = await connect(temporal)
        click.echo(
            f"worker polling {task_queue or TASK_QUEUE} on {client.service_client.config.target_host}; Ctrl-C stops"
        )
        await run_worker(client, task_queue or TASK_QUEUE, stop, definitions=defs)

    run(main())


@click.command("apply")
@definitions_option
@temporal_options
def apply_cmd(definitions_path: Path, temporal: Temporal) -> None:
    """Reconcile Temporal Schedules with the definitions (create, update, delete)."""
    defs = load(definitions_path)

    async def main() -> list[str]:
        return await apply_definitions(await connect(temporal), defs)

    changes = run(main())
    for line in changes:
        click.echo(line)
    click.secho(f"applied {definitions_path}: {len(changes)} change(s)", fg="green")


def _seed_sandbox(running: dict[str, Any], registrations: int) -> str:
    """Demo data: platform events, sessions and registrations; Eloqua contacts for the fetch."""
    import base64

    import httpx

    platform = running["platform"].url
    seeded = httpx.post(
        f"{platform}/_sandbox/populate",
        json={"events": 2, "registrations_per_event": registrations, "sessions_per_event": 10},
        timeout=120,
    ).json()
    auth = "Basic " + base64.b64encode(b"SandboxCo\\api.user:sandbox-password").decode()
    with httpx.Client(base_url=running["eloqua"].url, headers={"Authorization": auth}) as http:
        for i in range(50):
            http.post(
                "/api/REST/1.0/data/contact",
                json={
                    "emailAddress": f"contact{i}@example.com",
                    "firstName": f"First{i}",
                    "lastName": f"Last{i}",
                },
            ).raise_for_status()
    return f"platform: {seeded.get('registrations')} registrations in {', '.join(seeded.get('events', []))}; eloqua: 50 contacts"


async def _dev(
    server: DevServer,
    defs: Definitions | None,
    smoke: bool,
    receiver_port: int = RECEIVER_PORT,
    sandbox: bool = False,
    seed_registrations: int = 200,
    codec_port: int = 0,
) -> None:
    from activities.smoke import PingInput
    from worker.main import build_worker
    from worker.registry import TASK_QUEUE
    from workflows.smoke import SmokeWorkflow

    stop = _stop_event()
    here = Temporal(server.address, "default")
    client = await connect(here)
    # Connections that pin their deliveries to a queue of their own get a poller here too, or
    # their deliveries would wait for a worker that `dev` never starts.
    queues = sorted({c.task_queue for c in defs.connections if c.task_queue} - {TASK_QUEUE}) if defs else []
    secret = os.environ.get(SECRET_ENV) or DEV_SECRET
    # The emulators go up first and down last: the workers stop (cancelling what they run)
    # while the systems their activities talk to are still there, instead of those activities
    # failing against emulators that vanished under them.
    with contextlib.ExitStack() as emulators:
        running: dict[str, Any] = {}
        if sandbox:
            from sandbox import stack as sandbox_stack

            hook = {"url": f"http://127.0.0.1:{receiver_port}/webhooks/platform", "secret": secret.split(",")[0]}
            running = emulators.enter_context(sandbox_stack.run(settings={"platform": {"webhook": hook}}))
        async with contextlib.AsyncExitStack() as workers:
            for queue in [TASK_QUEUE, *queues]:
                await workers.enter_async_context(
                    build_worker(client, queue, definitions=defs, keeper=queue == TASK_QUEUE)
                )
            if queues:
                click.echo(f"  delivery queues: {', '.join(queues)}")
            if defs is not None:
                for line in await apply_definitions(client, defs):
                    click.echo(f"  apply: {line}")
            if smoke:
                result = await client.execute_workflow(
                    SmokeWorkflow.run,
                    PingInput(message="hello from eventsync dev"),
                    id=f"smoke-{uuid.uuid4().hex[:12]}",
                    task_queue=TASK_QUEUE,
                )
                click.echo(f"  smoke run ok (engine {result.engine_version})")
            # The webhook receiver, in this process: the platform (or `eventsync sandbox`) posts here.
            receiver = receiver_server(
                defs or Definitions(),
                secrets_from_env(secret),
                lambda: connect(here),
                "127.0.0.1",
                receiver_port,
                embedded=True,
            )
            servers = [(receiver, await _started(receiver, f"webhook receiver on port {receiver_port}"))]
            if codec_port:
                codec = _codec_server(server, codec_port)
                servers.append((codec, await _started(codec, f"codec server on port {codec_port}")))
            where = "$" + SECRET_ENV if os.environ.get(SECRET_ENV) else f"dev secret {DEV_SECRET!r}"
            for r in running.values():
                click.echo(f"  sandbox {r.name:<11} {r.url}")
            if running and seed_registrations:
                click.echo("  seeded " + await asyncio.to_thread(_seed_sandbox, running, seed_registrations))
            await _serve_until_stopped(server, receiver_port, codec_port, where, stop)
            for embedded, serving in servers:
                embedded.should_exit = True
                await serving
    click.echo("stopping…")


async def _started(embedded: uvicorn.Server, what: str) -> asyncio.Task[None]:
    serving = asyncio.create_task(embedded.serve())
    while not embedded.started and not serving.done():  # noqa: ASYNC110 - uvicorn offers only a flag
        await asyncio.sleep(0.05)
    if serving.done():
        serving.result()  # raises why it could not start (e.g. the port is taken)
        raise click.ClickException(f"{what} did not start")
    return serving


def _codec_server(server: DevServer, port: int) -> uvicorn.Server:
    """The Web UI's Data Encoder: decrypts payloads for the browser (no token; see create_app)."""
    from client.codec_server import create_app
    from client.commands.serve import EmbeddedServer
    from worker.codec import codec_from_env

    codec = codec_from_env()
    assert codec is not None, "dev sets its keys before it starts anything"
    origins = [f"http://{host}:{server.ui_port}" for host in ("localhost", "127.0.0.1")] if server.ui_port else []
    app = create_app(codec, None, origins)
    return EmbeddedServer(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))


def _dev_keys(state_dir: Path) -> None:
    """Encrypt the local stack's payloads like any other (docs/operations.md): the configured keys, or a
    key of its own kept in the state folder (found there by commands run from this folder)."""
    from eventsync.keyring import KEYS_FILE_ENV, ensure_key_file, keyring_from_env

    if keyring_from_env(dev_keys=None) is None:
        # For this process: its worker, receiver, codec server and clients.
        os.environ[KEYS_FILE_ENV] = str(ensure_key_file(state_dir / "codec.keys"))


async def _serve_until_stopped(
    server: DevServer, receiver_port: int, codec_port: int, where: str, stop: asyncio.Event
) -> None:
    codec = f"http://127.0.0.1:{codec_port} (the Web UI's Data Encoder)" if codec_port else "off"
    click.secho(
        f"eventsync dev is up\n  Temporal:  {server.address}\n  Web UI:    {server.ui_url}\n"
        f"  Receiver:  http://127.0.0.1:{receiver_port}/webhooks/platform (signed with {where})\n"
        f"  Payloads:  encrypted with {os.environ.get('EVENTSYNC_CODEC_KEYS_FILE') or '$EVENTSYNC_CODEC_KEYS'}"
        f"; codec server {codec}\n"
        f"  state:     {server.state_dir}\nCtrl-C stops everything.",
        fg="green",
    )
    await stop.wait()


@click.command()
@definitions_option
@click.option(
    "--state-dir",
    type=click.Path(path_type=Path),
    default=Path(".eventsync"),
    show_default=True,
    help="Where the dev server keeps its SQLite file and logs.",
)
@click.option("--port", default=7233, show_default=True, help="Temporal frontend port.")
@click.option("--ui-port", default=8233, show_default=True, help="Temporal Web UI port (0: no Web UI).")
@click.option(
    "--smoke/--no-smoke", default=True, show_default=True, help="Run the smoke workflow once at start."
)
@click.option("--receiver-port", default=RECEIVER_PORT, show_default=True, help="Webhook receiver port.")
@click.option(
    "--codec-port",
    default=8081,
    show_default=True,
    help="Port of the codec server the Web UI decrypts payloads with (0: none; payloads stay encrypted).",
)
@click.option(
    "--sandbox/--no-sandbox",
    default=False,
    show_default=True,
    help="Also run every emulator (docs/sandbox.md) on its fixed port, the platform sending its signed webhooks here.",
)
@click.option(
    "--seed",
    "seed_registrations",
    default=200,
    show_default=True,
    help="With --sandbox: registrations per demo event (0: none).",
)
def dev(
    definitions_path: Path,
    state_dir: Path,
    port: int,
    ui_port: int,
    smoke: bool,
    receiver_port: int,
    sandbox: bool,
    seed_registrations: int,
    codec_port: int,
) -> None:
    """The whole local stack in one command: Temporal dev server (SQLite, Web UI), worker,
    the webhook receiver, and the definitions applied. Ctrl-C stops everything."""
    defs = load(definitions_path) if definitions_path.exists() else None
    if defs is None:
        click.echo(f"(no definitions at {definitions_path}; starting without them)")
    try:
        _dev_keys(state_dir)
        # The dev receiver listens on loopback only: its dashboard may be open there.
        os.environ.setdefault("EVENTSYNC_DASHBOARD", "open")
    except ValueError as err:  # KeyringError: a bad EVENTSYNC_CODEC_KEYS[_FILE]
        fail(str(err))
    # The event store beside the dev server's database; commands run from this folder find it.
    from eventsync.store.sql import STORE_ENV

    store_file = (state_dir / "events.sqlite3").resolve()
    os.environ.setdefault(STORE_ENV, "sqlite:///" + str(store_file))
    ui_codec = ["--ui-codec-endpoint", f"http://127.0.0.1:{codec_port}"] if codec_port and ui_port else []
    server = DevServer(state_dir=state_dir, port=port, ui_port=ui_port or None, extra_args=ui_codec)
    if sandbox:
        # The emulators start empty (and seeded) every time; Temporal's history must not
        # outlive them, or `explain` would mix two people under one registration code.
        previous = server.set_aside_state()
        if os.environ[STORE_ENV] == "sqlite:///" + str(store_file):
            # The event store describes the same records as Temporal's state: set aside with it.
            for suffix in ("", "-wal", "-shm"):
                f = store_file.with_name(store_file.name + suffix)
                if f.exists():
                    f.rename(f.with_name(f.name + ".previous"))
        if previous is not None:
            click.echo(f"  --sandbox: emulators start afresh, so Temporal does too (previous state: {previous})")
    try:
        server.start()
    except (RuntimeError, TimeoutError, FileNotFoundError) as err:
        fail(str(err))
    try:
        run(_dev(server, defs, smoke, receiver_port, sandbox, seed_registrations, codec_port))
    finally:
        server.stop()
    click.echo("stopped")
