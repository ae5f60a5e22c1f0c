"""Helpers shared by CLI commands: run a coroutine, load definitions, say things plainly."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

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


def fail(message: str, code: int = 1) -> None:
    click.secho(message, fg="red", err=True)
    sys.stdout.flush()
    # Temporal's native runtime can abort at interpreter exit (sdk-python#300); leave at once.
    os._exit(code)


def load(path: Path) -> Definitions:
    result = load_definitions(path, check_secrets=False)
    if result.definitions is None:
        for problem in result.errors:
            click.echo(str(problem), err=True)
        fail(f"{len(result.errors)} error(s) in {path}; run `eventsync validate {path}` for details")
    assert result.definitions is not None
    return result.definitions


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
