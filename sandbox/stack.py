"""Every emulator on its fixed, documented port (docs/sandbox.md): `eventsync sandbox`.

platform 8701 · touchpoint 8702 · webhook 8703 · restsource 8704
marketo 8711 · eloqua 8712 · salesforce 8713 · hubspot 8714
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from sandbox.serving import Served, served

EMULATORS: dict[str, str] = {
    "platform": "sandbox.platform.app",
    "touchpoint": "sandbox.touchpoint",
    "webhook": "sandbox.webhook",
    "restsource": "sandbox.restsource",
    "marketo": "sandbox.marketo",
    "eloqua": "sandbox.eloqua",
    "salesforce": "sandbox.salesforce",
    "hubspot": "sandbox.hubspot",
}


def default_port(name: str) -> int:
    return int(importlib.import_module(EMULATORS[name]).DEFAULT_PORT)


@dataclass
class Running:
    name: str
    served: Served

    @property
    def url(self) -> str:
        return self.served.url


@contextmanager
def run(
    names: list[str] | None = None,
    *,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    settings: dict[str, dict[str, Any]] | None = None,
) -> Iterator[dict[str, Running]]:
    """Start the named emulators (all by default) in this process; stop them on exit.

    ``ports`` overrides the fixed ports (0 = a free one); ``settings`` passes keyword settings
    to an emulator's ``create_app``."""
    chosen = names or list(EMULATORS)
    unknown = [n for n in chosen if n not in EMULATORS]
    if unknown:
        raise ValueError(f"unknown emulator(s) {', '.join(unknown)}; known: {', '.join(EMULATORS)}")
    running: dict[str, Running] = {}
    with ExitStack() as stack:
        for name in chosen:
            module = importlib.import_module(EMULATORS[name])
            app = module.create_app(**(settings or {}).get(name, {}))
            port = (ports or {}).get(name, module.DEFAULT_PORT) or None
            running[name] = Running(name, stack.enter_context(served(app, host, port)))
        yield running
