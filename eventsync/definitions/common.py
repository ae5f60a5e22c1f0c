"""Pieces shared by every definition model."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from eventsync.strict import Strict as Strict  # re-exported: every definition model builds on it

_SECRET_REF = re.compile(r"^\$\{(env|file):([^}]+)\}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def _check_secret_ref(value: str) -> str:
    if not _SECRET_REF.match(value):
        raise ValueError(
            "secrets are references, never values: write ${env:NAME} (an environment variable) or "
            "${file:/path/to/file}"
        )
    return value


def _check_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError("a name is 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit")
    return value


SecretRef = Annotated[str, AfterValidator(_check_secret_ref)]
"""`${env:NAME}` or `${file:PATH}`; resolved only inside activities (eventsync.secrets)."""

Name = Annotated[str, AfterValidator(_check_name)]


def parse_secret_ref(ref: str) -> tuple[str, str]:
    m = _SECRET_REF.match(ref)
    if not m:
        raise ValueError(f"not a secret reference: {ref!r}")
    return m.group(1), m.group(2)
