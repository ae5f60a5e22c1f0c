"""`eventsync sandbox` (every emulator on its documented port) and `eventsync sandbox seed`."""

from __future__ import annotations

import signal
import threading

import click
import httpx


@click.group(invoke_without_command=True)
@click.option("--only", default=None, help="Comma-separated emulators to run (default: all).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--webhook-url", default=None, help="Where the platform emulator sends its signed webhooks.")
@click.option(
    "--webhook-secret",
    default="sandbox-webhook-secret",
    show_default=True,
    help="HMAC key of those webhooks.",
)
@click.pass_context
def sandbox(
    ctx: click.Context, only: str | None, host: str, webhook_url: str | None, webhook_secret: str
) -> None:
    """Run the emulators of every external system (docs/sandbox.md) until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    from sandbox import stack

    names = [n.strip() for n in only.split(",")] if only else None
    settings = (
        {"platform": {"webhook": {"url": webhook_url, "secret": webhook_secret}}} if webhook_url else {}
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with stack.run(names, host=host, settings=settings) as running:
        for r in running.values():
            click.echo(f"  {r.name:<11} {r.url}")
        click.secho("sandbox is up; Ctrl-C stops it. Admin API of each: <url>/_sandbox/…", fg="green")
        stop.wait()


@sandbox.command()
@click.option("--url", default="http://127.0.0.1:8701", show_default=True, help="The platform emulator.")
@click.option("--account", default="DEMO", show_default=True)
@click.option("--events", default=2, show_default=True)
@click.option("--registrations", default=2000, show_default=True, help="Registrations per event.")
@click.option("--sessions", default=20, show_default=True, help="Sessions per event.")
@click.option(
    "--seed", "seed_value", default=0, show_default=True, help="Random seed (the same seed, the same data)."
)
def seed(url: str, account: str, events: int, registrations: int, sessions: int, seed_value: int) -> None:
    """Fill the running platform emulator with realistic events, sessions and registrations."""
    body = {
        "seed": seed_value,
        "account": account,
        "events": events,
        "registrations_per_event": registrations,
        "sessions_per_event": sessions,
    }
    try:
        response = httpx.post(f"{url}/_sandbox/populate", json=body, timeout=300)
    except httpx.TransportError as err:
        raise click.ClickException(
            f"the platform emulator at {url} is not reachable ({type(err).__name__}); start it with `eventsync sandbox`"
        ) from None
    if response.status_code >= 400:
        raise click.ClickException(f"seeding failed: HTTP {response.status_code}: {response.text[:300]}")
    click.echo(response.text)
