"""Helpers shared by CLI commands: run a coroutine, load definitions, say things plainly."""

from __future__ import annotations

import asyncio
import atexit
import difflib
import functools
import os
import sys
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from eventsync.definitions import Definitions
from eventsync.definitions.loader import load_definitions

if TYPE_CHECKING:
    from temporalio.client import Client

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
    help="Temporal frontend host:port (default: the envconfig profile, then localhost:7233).",
)
namespace_option = click.option(
    "--namespace", envvar="TEMPORAL_NAMESPACE", default=None, help="Temporal namespace."
)
profile_option = click.option(
    "--profile",
    default=None,
    help="envconfig profile of the Temporal config file ($TEMPORAL_PROFILE, else `default`).",
)


def _set_profile(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["TEMPORAL_PROFILE"] = value  # envconfig reads it when a client connects


# The same `--profile` for commands that take `address`/`namespace` themselves: it names the
# envconfig profile through TEMPORAL_PROFILE, which every connect of this process then reads.
profile_env_option = click.option(
    "--profile",
    default=None,
    expose_value=False,
    callback=_set_profile,
    help="envconfig profile of the Temporal config file ($TEMPORAL_PROFILE, else `default`).",
)


@dataclass(frozen=True)
class Temporal:
    """Where a command's Temporal is: explicit options win over the envconfig profile (the
    `temporal` CLI's own config file and TEMPORAL_* variables), which wins over our defaults."""

    address: str | None = None
    namespace: str | None = None
    profile: str | None = None


def temporal_options(command: Callable[..., T]) -> Callable[..., T]:
    """`--address`, `--namespace` and `--profile`, the same on every command that talks to
    Temporal, handed to the command as one `temporal: Temporal` argument (pass it to `connect`)."""

    @functools.wraps(command)
    def with_target(*args: Any, address: str | None, namespace: str | None, profile: str | None, **kw: Any) -> T:
        return command(*args, temporal=Temporal(address, namespace, profile), **kw)

    return address_option(namespace_option(profile_option(with_target)))


async def connect(temporal: Temporal) -> Client:
    """The Temporal client of a command (our data converter and interceptors, see worker/connect.py)."""
    from worker.connect import connect as connect_to

    return await connect_to(temporal.address, temporal.namespace, temporal.profile)


def pick(kind: str, name: str, known: Iterable[str]) -> str:
    """`name` if it is one of `known`, else a usage error that offers the nearest names: an
    operator's typo must fail, not act on nothing."""
    names = sorted(set(known))
    if name in names:
        return name
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    defined = ", ".join(names[:10]) + (f", … {len(names)} in all" if len(names) > 10 else "") if names else "none"
    raise click.UsageError(f"no {kind} named {name!r}{hint} (defined: {defined})")


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
    if not path.exists():
        fail(
            f"no definitions at {path}: give -d PATH or set ${DEFINITIONS_ENV} "
            "(the dev stack's are examples/dev; `bash scripts/dev.sh` sets that for commands run from the repository)"
        )
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
