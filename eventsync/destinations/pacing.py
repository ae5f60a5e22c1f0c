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
