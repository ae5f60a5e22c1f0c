"""Pacing for vendors whose limit is "N calls in any W seconds" (Marketo, HubSpot).

A token bucket allows a burst on top of its rate, which a vendor's sliding window counts: at 5/s
with a burst of 5, 105 calls fit in some 20 s window and the 101st gets a 606. This limiter keeps
its own sliding window of send times, `margin_s` wider than the vendor's so that network jitter
(a call sent later arriving sooner than an earlier one) never puts N+1 calls in the vendor's window,
plus a concurrency cap. One per (connection, limits) in the process, shared by every batch.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WindowPacer:
    def __init__(self, calls: int, window_s: float, max_concurrency: int, margin_s: float) -> None:
        self.calls = max(1, calls)
        self.span = window_s + margin_s
        self.sem = asyncio.Semaphore(max(1, max_concurrency))
        self.lock = asyncio.Lock()
        self.sent: deque[float] = deque()
        self.hold_until = 0.0
        self.taken = 0

    def hold(self, seconds: float) -> None:
        """The vendor said "slow down" anyway: nobody sends for `seconds`."""
        self.hold_until = max(self.hold_until, time.monotonic() + seconds)

    async def _take(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                if now < self.hold_until:
                    await asyncio.sleep(self.hold_until - now)
                    continue
                while self.sent and self.sent[0] <= now - self.span:
                    self.sent.popleft()
                if len(self.sent) < self.calls:
                    self.sent.append(now)
                    self.taken += 1
                    return
                await asyncio.sleep(self.sent[0] + self.span - now)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        async with self.sem:
            await self._take()
            yield


_pacers: dict[tuple[str, int, float, int], WindowPacer] = {}


def window_pacer(key: str, calls: int, window_s: float, max_concurrency: int) -> WindowPacer:
    # 2.5 % of the window (0.5 s for Marketo's 20 s, 0.25 s for HubSpot's 10 s) covers loopback
    # and LAN jitter many times over while costing little throughput.
    k = (key, calls, window_s, max_concurrency)
    p = _pacers.get(k)
    if p is None:
        p = _pacers[k] = WindowPacer(calls, window_s, max_concurrency, margin_s=window_s * 0.025)
    return p
