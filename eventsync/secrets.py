"""Resolve secret references (`${env:NAME}`, `${file:PATH}`) — only inside activities and the
CLI's connection test, never in workflows, so a value never reaches workflow history."""

from __future__ import annotations

import os
from pathlib import Path

from eventsync.definitions.common import parse_secret_ref


class MissingSecretError(Exception):
    """A secret reference that points at nothing. The message names where, never a value."""

    def __init__(self, connection: str, field: str, ref: str, why: str) -> None:
        self.connection = connection
        self.field = field
        self.ref = ref
        super().__init__(f"connection {connection!r}: {field} refers to {ref}, {why}")


def resolve_secret(ref: str, *, connection: str, field: str) -> str:
    source, target = parse_secret_ref(ref)
    if source == "env":
        value = os.environ.get(target)
        if value is None:
            raise MissingSecretError(
                connection, field, ref, f"but the environment variable {target} is not set"
            )
        if value == "":
            raise MissingSecretError(
                connection, field, ref, f"but the environment variable {target} is empty"
            )
        return value
    path = Path(target).expanduser()
    try:
        value = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise MissingSecretError(connection, field, ref, f"but the file {path} does not exist") from None
    except OSError as err:
        raise MissingSecretError(
            connection, field, ref, f"but the file {path} cannot be read ({err.strerror})"
        ) from None
    if not value:
        raise MissingSecretError(connection, field, ref, f"but the file {path} is empty")
    return value


def check_secret(ref: str, *, connection: str, field: str) -> str | None:
    """For `validate`: the problem with a reference, or None when it resolves (value discarded)."""
    try:
        resolve_secret(ref, connection=connection, field=field)
    except MissingSecretError as err:
        return str(err)
    return None
