"""Engine-side pacing: a token bucket for calls per second plus a concurrency cap, per destination
connection, per worker process. Spread across several workers, each takes its configured share
(docs/architecture.md, "Pacing")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Pacer:
    def __init__(self, calls_per_second: float | None, max_concurrency: int) -> None:
        self.rate = calls_per_second
        self.capacity = max(1.0, calls_per_second or 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self.sem = asyncio.Semaphore(max_concurrency)
        self.lock = asyncio.Lock()

    async def _take(self) -> None:
        if self.rate is None:
            return
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.sem:
            await self._take()
            yield


_pacers: dict[tuple[str, float | None, int], Pacer] = {}


def pacer_for(key: str, calls_per_second: float | None, max_concurrency: int) -> Pacer:
    """One pacer per (connection, limits) in this process, shared by all concurrent batches."""
    k = (key, calls_per_second, max_concurrency)
    p = _pacers.get(k)
    if p is None:
        p = _pacers[k] = Pacer(calls_per_second, max_concurrency)
    return p
