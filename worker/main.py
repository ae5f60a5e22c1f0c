"""Build and run the eventsync worker."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from worker import registry


def build_worker(
    client: Client,
    task_queue: str = registry.TASK_QUEUE,
    *,
    workflows: Sequence[type] | None = None,
    activities: Sequence[Any] | None = None,
    **options: Any,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(workflows if workflows is not None else registry.workflows()),
        activities=list(activities if activities is not None else registry.activities()),
        activity_executor=ThreadPoolExecutor(max_workers=8),
        **options,
    )


async def run_worker(
    client: Client, task_queue: str = registry.TASK_QUEUE, stop: asyncio.Event | None = None
) -> None:
    worker = build_worker(client, task_queue)
    if stop is None:
        await worker.run()
        return
    async with worker:
        await stop.wait()
