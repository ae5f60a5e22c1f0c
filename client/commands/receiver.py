"""`eventsync receiver`: the platform webhook receiver as a long-running process (deploy/)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from client.commands.common import address_option, definitions_option, fail, load, namespace_option, observe

SECRETS_ENV = "EVENTSYNC_WEBHOOK_SECRETS"
SECRETS_FILE_ENV = "EVENTSYNC_WEBHOOK_SECRETS_FILE"


def _secrets() -> list[bytes]:
    raw = os.environ.get(SECRETS_ENV, "")
    path = os.environ.get(SECRETS_FILE_ENV, "")
    if path:
        try:
            raw = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            fail(f"{SECRETS_FILE_ENV}: cannot read {path}: {err.strerror}")
    found = [s.strip().encode() for line in raw.splitlines() for s in line.split(",") if s.strip()]
    if not found:
        fail(f"the receiver needs the platform's signing secret(s): set {SECRETS_ENV} or {SECRETS_FILE_ENV}")
    return found


@click.command("receiver")
@definitions_option
@address_option
@namespace_option
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True)
def receiver(
    definitions_path: Path, address: str | None, namespace: str | None, host: str, port: int
) -> None:
    """Serve POST /webhooks/platform (signed events → flow shards); stateless, run several."""
    import uvicorn

    from client.receiver import ReceiverSettings, create_app
    from worker.connect import connect

    defs = load(definitions_path)
    secrets = _secrets()
    observe("eventsync-receiver")

    async def connect_once():  # type: ignore[no-untyped-def]
        return await connect(address, namespace)

    app = create_app(ReceiverSettings(definitions=defs, secrets=secrets, connect=connect_once))
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
