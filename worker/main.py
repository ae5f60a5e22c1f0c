"""Build and run the eventsync worker."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities import context
from eventsync.definitions import Definitions
from worker import activity_logs, registry
from worker.keeper import Keeper


class EventsyncWorker(Worker):
    """A Temporal worker that also runs the Signal keeper (worker/keeper.py) while it runs."""

    keeper: Keeper | None = None

    async def run(self) -> None:
        task = asyncio.create_task(self.keeper.run()) if self.keeper is not None else None
        try:
            await super().run()
        finally:
            if task is not None:
                task.cancel()


def build_worker(
    client: Client,
    task_queue: str = registry.TASK_QUEUE,
    *,
    workflows: Sequence[type] | None = None,
    activities: Sequence[Any] | None = None,
    definitions: Definitions | None = None,
    keeper: bool = True,
    **options: Any,
) -> Worker:
    # The worker resolves every connection, flow and fetch by name from its own definitions.
    context.register(task_queue, definitions)
    activity_logs.install()
    # A fetch activity heartbeats its committed position after each page; the server must have
    # it within a page's time, or a crash re-applies the pages since the last heartbeat that got
    # through (the SDK's default throttle is 80 % of the heartbeat timeout: seconds).
    options.setdefault("max_heartbeat_throttle_interval", timedelta(milliseconds=50))
    worker = EventsyncWorker(
        client,
        task_queue=task_queue,
        workflows=list(workflows if workflows is not None else registry.workflows()),
        activities=list(activities if activities is not None else registry.activities()),
        activity_executor=ThreadPoolExecutor(max_workers=8),
        **options,
    )
    # Shards run on the general queue; a worker polling a connection's delivery queue only delivers.
    if keeper and definitions is not None and task_queue not in {c.task_queue for c in definitions.connections}:
        worker.keeper = Keeper(client, definitions, task_queue)
    return worker


async def run_worker(
    client: Client,
    task_queue: str = registry.TASK_QUEUE,
    stop: asyncio.Event | None = None,
    definitions: Definitions | None = None,
) -> None:
    worker = build_worker(client, task_queue, definitions=definitions)
    if stop is None:
        await worker.run()
        return
    async with worker:
        await stop.wait()
