"""A real, separate worker process for the crash test: `python -m tests.integration.touchpoint.worker_proc
ADDRESS NAMESPACE TASK_QUEUE`. Prints READY once polling."""

from __future__ import annotations

import asyncio
import sys

from temporalio.client import Client

from worker.converter import data_converter
from worker.main import build_worker


async def main(address: str, namespace: str, task_queue: str) -> None:
    client = await Client.connect(address, namespace=namespace, data_converter=data_converter())
    async with build_worker(client, task_queue):
        print("READY", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
