"""Wake-ups without a message per event: delivery loops wait here for the store to grow.

One poll per process and store (the newest `seq`, an index look-up) every few milliseconds,
only while some loop waits; every waiting loop wakes when it moves. Idle shards cost one
cheap query per interval for the whole process, and no Temporal traffic at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from eventsync.store.sql import EventStore, StoreUnavailable

POLL_S = 0.005
_executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="eventsync-store")


async def in_thread(fn, *args):  # type: ignore[no-untyped-def]
    """Run a store call on the store's own threads (one connection per thread)."""
    return await asyncio.get_running_loop().run_in_executor(_executor, fn, *args)


class StoreWatcher:
    def __init__(self, store: EventStore, poll_s: float = POLL_S) -> None:
        self.store = store
        self.poll_s = poll_s
        self.latest = 0
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._waiters = 0

    async def wait(self, seen: int, timeout: float) -> int:
        """Return the newest seq once it is past `seen`, or after `timeout` seconds."""
        if self.latest > seen:
            return self.latest
        if self._changed is None:
            self._changed = asyncio.Event()
        self._waiters += 1
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while self.latest <= seen:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                event = self._changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), left)
        finally:
            self._waiters -= 1
        return self.latest

    async def _poll(self) -> None:
        while self._waiters > 0:
            try:
                latest = await in_thread(self.store.last_seq)
            except StoreUnavailable:
                latest = self.latest
                await asyncio.sleep(0.5)
            if latest > self.latest:
                self.latest = latest
                assert self._changed is not None
                self._changed.set()
                self._changed = asyncio.Event()
            await asyncio.sleep(self.poll_s)


_watchers: dict[int, StoreWatcher] = {}


def watcher_for(store: EventStore) -> StoreWatcher:
    loop_id = id(asyncio.get_running_loop())
    key = hash((id(store), loop_id))
    w = _watchers.get(key)
    if w is None:
        w = _watchers[key] = StoreWatcher(store)
    return w
