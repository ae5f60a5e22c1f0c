"""A setting from the environment, or, for a mounted secret, from the file its `_FILE` variant
names: the one reader of every such pair (codec keys, the event store's URL, webhook secrets, the
dashboard's and the codec server's tokens), so each answers "both set", "unreadable" and "empty"
the same way."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


class SettingError(ValueError):
    """A setting that is set wrongly; the message names the variable and the fix, never a value."""


def env_or_file(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """`$NAME`, or the contents of the file `$NAME_FILE` names (stripped); None when neither is
    set. Both set, an unreadable file or an empty one is a SettingError: a secret meant to be
    configured must not silently be absent."""
    env = os.environ if environ is None else environ
    value = env.get(name, "").strip()
    path = env.get(name + "_FILE", "").strip()
    if value and path:
        raise SettingError(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            value = Path(path).read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SettingError(f"{name}_FILE: cannot read {path}: {err.strerror}") from None
        if not value:
            raise SettingError(f"{name}_FILE: {path} is empty")
    return value or None
