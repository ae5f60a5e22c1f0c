"""Pacing for vendors whose limit is "N calls in any W seconds" (Marketo, HubSpot).

A token bucket allows a burst on top of its rate, which a vendor's sliding window counts: at 5/s
with a burst of 5, 105 calls fit in some 20 s window and the 101st gets a 606. This limiter keeps
its own sliding window (see WindowPacer: a call counts until a window after its answer, so queueing
at the vendor never puts N+1 calls in the vendor's window), plus a concurrency cap. One per (connection, limits) in the process, shared by every batch.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WindowPacer:
    """A call counts in our window from when it is sent until `span` after its answer arrived:
    the vendor stamped it somewhere in between, so a call sent `span` after the answer of the call
    N places back is more than the vendor's window after it, however long either queued."""

    def __init__(self, calls: int, window_s: float, max_concurrency: int, margin_s: float) -> None:
        self.calls = max(1, calls)
        self.span = window_s + margin_s
        self.sem = asyncio.Semaphore(max(1, max_concurrency))
        self.lock = asyncio.Lock()
        self.stamps: dict[int, float] = {}  # call -> answer time (inf while in flight)
        self.next_id = 0
        self.hold_until = 0.0
        self.taken = 0

    def hold(self, seconds: float) -> None:
        """The vendor said "slow down" anyway: nobody sends for `seconds`."""
        self.hold_until = max(self.hold_until, time.monotonic() + seconds)

    async def _take(self) -> int:
        async with self.lock:
            while True:
                now = time.monotonic()
                if now < self.hold_until:
                    await asyncio.sleep(self.hold_until - now)
                    continue
                for k in [k for k, t in self.stamps.items() if t <= now - self.span]:
                    del self.stamps[k]
                if len(self.stamps) < self.calls:
                    self.next_id += 1
                    self.stamps[self.next_id] = math.inf
                    self.taken += 1
                    return self.next_id
                oldest = min(self.stamps.values())
                await asyncio.sleep(0.01 if oldest == math.inf else oldest + self.span - now)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.sem:
            call = await self._take()
            try:
                yield
            finally:
                self.stamps[call] = time.monotonic()


_pacers: dict[tuple[str, int, float, int], WindowPacer] = {}


def window_pacer(key: str, calls: int, window_s: float, max_concurrency: int) -> WindowPacer:
    # Answer times bound the vendor's stamps already; 1 % more covers clock granularity.
    k = (key, calls, window_s, max_concurrency)
    p = _pacers.get(k)
    if p is None:
        p = _pacers[k] = WindowPacer(calls, window_s, max_concurrency, margin_s=window_s * 0.01)
    return p


# ---- token bucket + concurrency cap (webhooks, Eloqua, Salesforce) ----------------------------


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


_bucket_pacers: dict[tuple[str, float | None, int], Pacer] = {}


def pacer_for(key: str, calls_per_second: float | None, max_concurrency: int) -> Pacer:
    """One pacer per (connection, limits) in this process, shared by all concurrent batches."""
    k = (key, calls_per_second, max_concurrency)
    p = _bucket_pacers.get(k)
    if p is None:
        p = _bucket_pacers[k] = Pacer(calls_per_second, max_concurrency)
    return p
