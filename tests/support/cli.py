"""Run the real `eventsync` command in a subprocess, as a user would type it."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVENTSYNC = str(Path(sys.executable).parent / "eventsync")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


async def eventsync(
    *args: str, env: dict[str, str | None] | None = None, cwd: Path = ROOT, timeout: float = 120
) -> Ran:
    """`eventsync ARGS` (async, so a worker in the test's loop keeps polling meanwhile); `env`
    adds to this process's environment, a None value removes that variable."""
    environ = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            environ.pop(key, None)
        else:
            environ[key] = value
    proc = await asyncio.create_subprocess_exec(
        EVENTSYNC,
        *args,
        cwd=cwd,
        env=environ,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    return Ran(proc.returncode or 0, out.decode(), err.decode())
