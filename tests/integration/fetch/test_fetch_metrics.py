"""API Fetch metrics move where pages and runs happen (issue 14 item 5): a real worker process
with its Prometheus endpoint, one fetch run, then a scrape."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from sandbox.serving import Served, free_port
from tests.integration.fetch.helpers import apply, definitions, eventually, run_once, write_definitions

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).resolve().parents[3]


def _value(text: str, metric: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(metric + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _worker(client: Client, task_queue: str, defs_file: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "EVENTSYNC_PROMETHEUS_PORT": str(port), "EVENTSYNC_PROMETHEUS_HOST": "127.0.0.1"}
    return subprocess.Popen(
        [
            sys.executable, "-m", "client", "worker", "-d", str(defs_file),
            "--address", client.service_client.config.target_host, "--task-queue", task_queue,
        ],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


async def _ready(worker: subprocess.Popen[bytes], port: int, log: Path) -> bool:
    """The worker serves its metrics (it is up), or it exited (False)."""
    for _ in range(150):
        if worker.poll() is not None:
            return False
        try:
            async with httpx.AsyncClient() as http:
                if (await http.get(f"http://127.0.0.1:{port}/metrics")).status_code == 200:
                    return True
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"worker never served /metrics: {log.read_text()[-2000:]}")  # noqa: ASYNC240


async def test_pages_records_and_run_duration_reach_the_prometheus_endpoint(
    client: Client, task_queue: str, source: Served, sink: Served, tmp_path: Path
) -> None:
    defs = definitions(source.url, sink.url)
    name = await apply(client, defs, task_queue)
    defs_file = write_definitions(defs, tmp_path / "d.yaml")
    log = tmp_path / "worker.log"
    port = free_port()
    worker = _worker(client, task_queue, defs_file, port, log)
    if not await _ready(worker, port, log):  # e.g. the free port was taken meanwhile: once more
        port = free_port()
        worker = _worker(client, task_queue, defs_file, port, log)
        assert await _ready(worker, port, log), f"worker exited: {log.read_text()[-2000:]}"
    try:
        result = await run_once(client, name)
        assert result.status == "done"

        async def scraped() -> str | None:
            try:
                async with httpx.AsyncClient() as http:
                    text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.HTTPError:
                return None
            return text if re.search(r"^eventsync_fetch_duration", text, re.M) else None

        text = await eventually(scraped, attempts=100)
        assert text is not None, "no eventsync_fetch_duration on the worker's /metrics"
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert _value(text, "eventsync_fetch_pages_total", fetch=name) == result.counts.pages
    assert _value(text, "eventsync_fetch_records_total", fetch=name) == 22
    assert _value(text, "eventsync_fetch_duration_seconds_count", fetch=name, outcome="done") == 1
