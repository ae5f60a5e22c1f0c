"""The operator commands with no worker running: a plain answer within seconds, never a hang
or a traceback (a query needs a worker; Temporal alone cannot answer it)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver

ROOT = Path(__file__).resolve().parents[3]


async def test_retry_queue_list_says_no_worker_answered(client: Client, task_queue: str) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        async with httpx.AsyncClient(timeout=30) as http:
            # Accepted (2xx: durable in Temporal), but nobody polls the task queue.
            with receiver(client, defs, task_queue) as rx:
                assert (await post_event(http, rx.url, event("N1", 0))).status_code == 200
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "retry-queue", "list", "--flow", flow.name,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    assert proc.returncode == 1, out
    assert "is running but no worker answered within 10 s" in out and "`eventsync worker`" in out, out
    assert "Traceback" not in out, out
