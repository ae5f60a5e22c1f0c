"""Signal-flow metrics move where the things happen, seen through a real worker's Prometheus
endpoint (issue 14 item 5): deliveries and their latency as events go out, the retry-queue gauge
up when a record parks, the same after a worker restart, and down again when an operator
discards it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from client.flow_control import operate, parked
from sandbox.serving import free_port
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).resolve().parents[3]


def _value(text: str, metric: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(metric + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def _scrape(port: int) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(f"http://127.0.0.1:{port}/metrics")).text


async def _until(port: int, metric: str, want: float, **labels: str) -> str:
    text = ""
    for _ in range(150):
        try:
            text = await _scrape(port)
        except httpx.HTTPError:
            text = ""
        if _value(text, metric, **labels) == want:
            return text
        await asyncio.sleep(0.2)
    raise AssertionError(
        f"{metric}{labels} never reached {want}: {[line for line in text.splitlines() if metric in line]}"
    )


def _worker(
    client: Client, task_queue: str, defs_file: Path, port: int, log: Path
) -> subprocess.Popen[bytes]:
    """`eventsync worker` as a user runs it, with its Prometheus endpoint on `port`."""
    return subprocess.Popen(
        [sys.executable, "-m", "client", "worker", "-d", str(defs_file),
         "--address", client.service_client.config.target_host, "--task-queue", task_queue],
        cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        env={**os.environ, "EVENTSYNC_PROMETHEUS_PORT": str(port), "EVENTSYNC_PROMETHEUS_HOST": "127.0.0.1"},
    )  # fmt: skip


async def test_deliveries_latency_and_the_retry_queue_gauge_reach_prometheus(
    client: Client, task_queue: str, tmp_path: Path
) -> None:
    rule = {"field": "code", "equals": "BAD", "status": 422, "error": "bad record"}
    with destination(reject=[rule]) as dest:
        defs, flow = flow_def(dest.url, shards=1)
        defs_file = tmp_path / "defs.yaml"
        defs_file.write_text(defs.model_dump_json(exclude_none=True))  # JSON is YAML
        port = free_port()
        log = tmp_path / "worker.log"
        worker = _worker(client, task_queue, defs_file, port, log)
        try:
            async with httpx.AsyncClient() as http:
                with receiver(client, defs, task_queue) as rx:
                    for code in ("OK1", "OK2"):
                        assert (await post_event(http, rx.url, event(code, 0))).status_code == 200
                    await wait_for(dest, lambda d: d.seqs("OK1") and d.seqs("OK2"))
                    text = await _until(
                        port, "eventsync_deliveries_total", 2, flow=flow.name, outcome="delivered"
                    )
                    assert _value(text, "eventsync_delivery_latency_seconds_count", flow=flow.name) == 2
                    assert _value(text, "eventsync_delivery_latency_seconds_sum", flow=flow.name) > 0

                    assert (await post_event(http, rx.url, event("BAD", 0))).status_code == 200
                    await _until(port, "eventsync_parked", 1, flow=flow.name)
                    assert [p.record_key for p in await parked(flow.name)] == ["BAD"]
                    # A worker that did not park it (restarted, or another one) shows it too.
                    worker.terminate()
                    worker.wait(timeout=20)
                    port = free_port()
                    worker = _worker(client, task_queue, defs_file, port, log)
                    await _until(port, "eventsync_parked", 1, flow=flow.name)
                    assert await operate(client, "discard", flow.name, "BAD", "test", "bad on purpose") == 1
                    await _until(port, "eventsync_parked", 0, flow=flow.name)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
