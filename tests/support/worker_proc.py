"""A real, separate worker process for crash tests: `python -m tests.support.worker_proc
ADDRESS NAMESPACE TASK_QUEUE`. Prints READY once polling. `start_worker` runs it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from temporalio.client import Client

from worker.converter import data_converter
from worker.main import build_worker

ROOT = Path(__file__).resolve().parents[2]


def start_worker(client: Client, task_queue: str) -> subprocess.Popen[str]:
    """A worker in its own process (so a test can SIGKILL it), polling ``task_queue``."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.worker_proc",
            client.service_client.config.target_host,
            client.namespace,
            task_queue,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "READY", line
    return proc


async def main(address: str, namespace: str, task_queue: str) -> None:
    client = await Client.connect(address, namespace=namespace, data_converter=data_converter())
    async with build_worker(client, task_queue):
        print("READY", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
