"""Group commit for the receiver: every request's events wait here, one writer thread commits
whatever has gathered in one transaction, and each request learns when its events are on disk.

While one commit runs, the next batch gathers, so batches grow with load by themselves (no fixed
linger) and a quiet receiver commits at once. A failed commit fails every request in it: their
callers answer 503 and the platform retries (dedupe by event id makes that harmless).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from eventsync.store.models import NewEvent
from eventsync.store.sql import EventStore
from eventsync.store.watch import in_thread

MAX_ROWS_PER_COMMIT = 5_000


@dataclass
class _Waiting:
    rows: list[NewEvent]
    done: asyncio.Future[int]


@dataclass
class Appender:
    store: EventStore
    queue: list[_Waiting] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    commits: int = 0

    async def append(self, rows: list[NewEvent]) -> int:
        """Return once `rows` are committed (how many were new); raise StoreUnavailable if not."""
        if not rows:
            return 0
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.queue.append(_Waiting(rows, fut))
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())
        return await fut

    async def _drain(self) -> None:
        while self.queue:
            take: list[_Waiting] = []
            n = 0
            while self.queue and (not take or n + len(self.queue[0].rows) <= MAX_ROWS_PER_COMMIT):
                w = self.queue.pop(0)
                take.append(w)
                n += len(w.rows)
            try:
                new = await in_thread(self.store.append, [r for w in take for r in w.rows])
            except Exception as err:  # noqa: BLE001 - every waiter gets it: their answer is 503
                for w in take:
                    if not w.done.done():
                        w.done.set_exception(err)
                continue
            self.commits += 1
            for w in take:
                if not w.done.done():
                    w.done.set_result(new)
