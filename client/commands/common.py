"""Helpers shared by CLI commands: run a coroutine, load definitions, say things plainly."""

from __future__ import annotations

import asyncio
import atexit
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from eventsync.definitions import Definitions
from eventsync.definitions.loader import load_definitions

T = TypeVar("T")

DEFINITIONS_ENV = "EVENTSYNC_DEFINITIONS"
DEFAULT_DEFINITIONS = "eventsync.yaml"

definitions_option = click.option(
    "--definitions",
    "-d",
    "definitions_path",
    envvar=DEFINITIONS_ENV,
    default=DEFAULT_DEFINITIONS,
    show_default=True,
    type=click.Path(path_type=Path),
    help=f"YAML file or folder of definitions (or ${DEFINITIONS_ENV}).",
)
address_option = click.option(
    "--address",
    envvar="TEMPORAL_ADDRESS",
    default=None,
    help="Temporal frontend host:port (default: envconfig, then localhost:7233).",
)
namespace_option = click.option(
    "--namespace", envvar="TEMPORAL_NAMESPACE", default=None, help="Temporal namespace."
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def leave(code: int) -> NoReturn:
    """End the process without interpreter finalization. Temporal's native runtime keeps Tokio
    threads that can call into Python while the interpreter tears down (sdk-python#300), which
    turns a command that succeeded into SIGABRT (exit -6). atexit handlers still run first, so
    OpenTelemetry flushes its last spans and metrics."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def fail(message: str, code: int = 1) -> NoReturn:
    click.secho(message, fg="red", err=True)
    leave(code)


def load(path: Path) -> Definitions:
    result = load_definitions(path, check_secrets=False)
    if result.definitions is None:
        for problem in result.errors:
            click.echo(str(problem), err=True)
        fail(f"{len(result.errors)} error(s) in {path}; run `eventsync validate {path}` for details")
    assert result.definitions is not None
    return result.definitions


ALLOW_PLAINTEXT_ENV = "EVENTSYNC_ALLOW_PLAINTEXT"


def require_codec_keys(command: str) -> None:
    """Long-running commands fail closed: without codec keys, registrant data would reach
    Temporal's history in clear. `EVENTSYNC_ALLOW_PLAINTEXT=1` is the explicit opt-out. The
    cwd `.eventsync/codec.keys` does not count here: that fallback is `eventsync dev`'s."""
    from eventsync.keyring import KEYS_ENV, KEYS_FILE_ENV, KeyringError, keyring_from_env

    try:
        configured = keyring_from_env(dev_keys=None) is not None
    except KeyringError as err:
        fail(str(err))
    if not configured and os.environ.get(ALLOW_PLAINTEXT_ENV, "") != "1":
        fail(
            f"eventsync {command}: no payload encryption keys: set {KEYS_ENV} or {KEYS_FILE_ENV} "
            f"(eventsync codec-server --generate-key makes one), or set {ALLOW_PLAINTEXT_ENV}=1 to run "
            "with registrant data in clear in Temporal's history"
        )


def observe(service: str) -> None:
    """Structured logs and telemetry for a long-running command (env-configured, see
    docs/operations.md): JSON logs, Prometheus endpoint and OTLP export when asked for."""
    from eventsync import logs, telemetry

    try:
        logs.configure()
        installed = telemetry.setup(service)
    except ValueError as err:
        fail(str(err))
        return
    if installed.exporters:
        click.echo(f"telemetry: {', '.join(installed.exporters)}", err=True)
