"""The one thing the engine needs from the HTTP core: an authenticated request on a connection."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import httpx


class Requester(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = ...,
        json: Any = ...,
        headers: dict[str, str] | None = ...,
        timeout: float | None = ...,
    ) -> httpx.Response: ...


ClientFor = Callable[[str], Requester]
"""Connection name -> its client (eventsync.http.ConnectionPool.client, inside an activity)."""
