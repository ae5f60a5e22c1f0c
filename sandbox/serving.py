"""Run an ASGI app (an emulator) on a loopback port in a background thread.

Tests start each emulator on a free port with ``served(app)``; ``eventsync sandbox`` runs
them on fixed ports. The emulators import nothing of the engine: one that shared the engine's code
would share its mistakes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.requests import ClientDisconnect


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class _ClientGone:
    """A client that hangs up before its request is read (a cancelled activity, a client
    timeout) is a normal event for a server: nothing to answer, nothing to log, rather than
    uvicorn's "Exception in ASGI application" traceback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:
            return


def start(app: object, host: str = "127.0.0.1", port: int | None = None) -> Served:
    """Start ``app`` under uvicorn in a daemon thread and wait until it accepts connections."""
    port = port or free_port(host)
    config = uvicorn.Config(_ClientGone(app), host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"served-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"server on {host}:{port} failed to start")
        if time.monotonic() > deadline:
            raise TimeoutError(f"server on {host}:{port} did not start within 15 s")
        time.sleep(0.01)
    return Served(host, port, server, thread)


@contextmanager
def served(app: object, host: str = "127.0.0.1", port: int | None = None) -> Iterator[Served]:
    s = start(app, host, port)
    try:
        yield s
    finally:
        s.stop()
