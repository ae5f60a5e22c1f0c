"""The dev stack's environment file: `scripts/dev.sh` writes `.eventsync/dev.env` (the sandbox's
published test credentials and where the definitions are), and every `eventsync` command run
from that folder reads it, so a command typed in any shell finds what the dev stack uses.

A variable already set in the environment wins; the file only fills gaps. Lines are `NAME=value`
(no quoting, no expansion); blank lines and `#` comments are skipped."""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from pathlib import Path

DEV_ENV_FILE = Path(".eventsync") / "dev.env"
_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


class DevEnvError(ValueError):
    pass


def read_dev_env(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise DevEnvError(f"{path}:{number}: expected NAME=value (fix the line, or delete the file)")
        values[match.group(1)] = match.group(2)
    return values


def apply_dev_env(path: Path = DEV_ENV_FILE, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Set the file's variables that the environment lacks; returns their names."""
    env = os.environ if environ is None else environ
    if not path.is_file():
        return []
    filled = {name: value for name, value in read_dev_env(path).items() if not env.get(name)}
    env.update(filled)
    return sorted(filled)
