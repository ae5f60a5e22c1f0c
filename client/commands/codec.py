"""`eventsync codec-server`: decrypt payloads for the Web UI and the temporal CLI."""

from __future__ import annotations

import click

from client.commands.common import fail, observe


@click.command("codec-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8081, show_default=True, help="Port to listen on.")
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    help="Web UI origin allowed to call the server (repeatable; default "
    "$EVENTSYNC_CODEC_CORS_ORIGINS or http://localhost:8233).",
)
@click.option("--generate-key", is_flag=True, help="Print a fresh key for EVENTSYNC_CODEC_KEYS and exit.")
def codec_server(host: str, port: int, cors_origins: tuple[str, ...], generate_key: bool) -> None:
    """Serve /encode and /decode (keys from EVENTSYNC_CODEC_KEYS[_FILE], bearer token from
    EVENTSYNC_CODEC_TOKEN[_FILE]). Point the Web UI's Data Encoder or
    `temporal workflow show --codec-endpoint URL --codec-auth 'Bearer TOKEN'` at it."""
    from eventsync.keyring import KeyringError, keyring_from_env, new_key

    if generate_key:
        click.echo(f"k1:{new_key()}")
        return
    import uvicorn

    from client.codec_server import CodecServerConfigError, create_app, origins_from_env, token_from_env
    from worker.codec import EncryptionCodec

    try:
        keyring = keyring_from_env()
        token = token_from_env()
    except (KeyringError, CodecServerConfigError) as err:
        fail(str(err))
        return
    if keyring is None:
        fail("no keys configured: set EVENTSYNC_CODEC_KEYS or EVENTSYNC_CODEC_KEYS_FILE")
        return
    observe("eventsync-codec-server")
    origins = list(cors_origins) or origins_from_env()
    app = create_app(EncryptionCodec(keyring), token, origins)
    click.echo(
        f"codec server on http://{host}:{port} (keys: {', '.join(keyring.keys)}; current "
        f"{keyring.current_id}; CORS: {', '.join(origins)})"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
