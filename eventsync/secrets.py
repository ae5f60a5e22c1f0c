"""Resolve secret references (`${env:NAME}`, `${file:PATH}`) — only inside activities and the
CLI's connection test, never in workflows, so a value never reaches workflow history.

References are scoped (docs/security.md, "Secrets model"): a definition can only name secrets
that were put there for connections, never the process's own keys.

- `${env:NAME}`: NAME starts with `EVENTSYNC_SECRET_`, or is listed in
  `EVENTSYNC_SECRET_ENV_ALLOW` (comma-separated; an entry ending in `*` is a prefix).
- `${file:PATH}`: PATH, symlinks resolved, lies under a directory of `EVENTSYNC_SECRETS_DIR`
  (os.pathsep-separated; default `/run/secrets`).
- Never, whatever the lists say: the codec keys and tokens, Temporal's client credentials, the
  webhook and dashboard secrets, the event store's URL (it holds the database password), and
  the Kubernetes service-account token.
"""

from __future__ import annotations

import fnmatch
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


ENV_PREFIX = "EVENTSYNC_SECRET_"
ENV_ALLOW = "EVENTSYNC_SECRET_ENV_ALLOW"
DIRS_ENV = "EVENTSYNC_SECRETS_DIR"
DEFAULT_DIRS = ("/run/secrets",)
# The process's own credentials: a connection naming one of these is an exfiltration attempt.
_NEVER_ENV = (
    "EVENTSYNC_CODEC_*",
    "EVENTSYNC_DASHBOARD_TOKEN*",
    "EVENTSYNC_WEBHOOK_SECRET*",
    "EVENTSYNC_SECRET_ENV_ALLOW",
    "EVENTSYNC_SECRETS_DIR",
    "EVENTSYNC_STORE*",
    "TEMPORAL_*",
    "AWS_*",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "KUBERNETES_*",
)
_NEVER_PATH_PARTS = ("kubernetes.io", "serviceaccount")


def _env_allowed(name: str) -> str | None:
    """Why `name` may not be read, or None."""
    if any(fnmatch.fnmatchcase(name, pat) for pat in _NEVER_ENV):
        return f"but {name} is one of eventsync's or Temporal's own credentials, never a connection's"
    if name.startswith(ENV_PREFIX) and name != ENV_PREFIX:
        return None
    for entry in (e.strip() for e in os.environ.get(ENV_ALLOW, "").split(",")):
        if entry and (name == entry or (entry.endswith("*") and name.startswith(entry[:-1]))):
            return None
    return (
        f"but {name} is not an allowed secret variable: name it {ENV_PREFIX}… "
        f"or list it in {ENV_ALLOW}"
    )


def secret_dirs() -> list[Path]:
    raw = os.environ.get(DIRS_ENV, "")
    dirs = [d for d in raw.split(os.pathsep) if d.strip()] or list(DEFAULT_DIRS)
    return [Path(d).expanduser().resolve() for d in dirs]


def _file_allowed(path: Path) -> str | None:
    real = path.resolve()
    if any(part in _NEVER_PATH_PARTS for part in real.parts):
        return f"but {path} is the service-account token, never a connection's secret"
    dirs = secret_dirs()
    if not any(real.is_relative_to(d) for d in dirs):
        where = ", ".join(str(d) for d in dirs)
        return f"but {path} is outside the secrets directory ({where}; set {DIRS_ENV} to change it)"
    return None


def resolve_secret(ref: str, *, connection: str, field: str) -> str:
    source, target = parse_secret_ref(ref)
    if source == "env":
        refused = _env_allowed(target)
        if refused:
            raise MissingSecretError(connection, field, ref, refused)
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
    refused = _file_allowed(path)
    if refused:
        raise MissingSecretError(connection, field, ref, refused)
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
