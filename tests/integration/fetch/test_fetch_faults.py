"""Crash guarantees, for real: (a) a worker process SIGKILLed mid-page, (b) the dev server
restarted mid-run. Both runs complete with the target holding exactly the source's records."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from client import fetch_control as fc
from eventsync.fetch.models import FetchRunResult
from sandbox.serving import Served, free_port
from tests.integration.fetch.helpers import (
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    eventually,
    progress,
    source_records,
    source_state,
    target_records,
    write_definitions,
)
from worker.connect import connect
from worker.main import build_worker
from workflows import search_attributes as sa

pytestmark = [pytest.mark.temporal, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[3]


def _worker_process(address: str, task_queue: str, defs_file: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "client",
            "worker",
            "--address",
            address,
            "--task-queue",
            task_queue,
            "-d",
            str(defs_file),
        ],  # fmt: skip
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _requests(url: str) -> int:
    return int((await admin(url, "GET", "/_sandbox/state"))["received"])


# `pages_per_activity` pages are read and applied by one activity, pipelined (the next page is read
# while the current one is applied), and the activity heartbeats its committed position after each
# page. So a worker killed mid-group re-applies at most the page it was applying, whatever the
# group; with a group > 1 it also re-requests the page it had read ahead.
@pytest.mark.parametrize("group", [1, 4, 50])
async def test_worker_sigkilled_mid_page_completes_rereading_at_most_one_group(
    client: Client,
    temporal_env: object,
    task_queue: str,
    source: Served,
    sink: Served,
    group: int,
    tmp_path: Path,
) -> None:
    address = client.service_client.config.target_host
    # One record per target request, each slow, so that a kill lands inside a page.
    defs = definitions(
        source.url,
        sink.url,
        target={"kind": "http", "connection": "sink", "path": "/ingest", "chunk_size": 1},
        limits={"pages_per_activity": group},
    )
    name = await apply(client, defs, task_queue)
    defs_file = write_definitions(defs, tmp_path / "eventsync.yaml")
    await admin(sink.url, "POST", "/_sandbox/faults", {"path": "/ingest", "action": "delay", "delay_s": 0.1})
    first = _worker_process(address, task_queue, defs_file)
    second: subprocess.Popen[bytes] | None = None
    try:
        handle = await fc.run_now(client, name)

        async def inside_page_three() -> bool:
            # 4 records a page, one request each: past 9 requests, page 3 is being applied.
            return await _requests(sink.url) > 4 * 2 + 1

        assert await eventually(inside_page_three, attempts=300)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        applied_at_kill = await _requests(sink.url)
        second = _worker_process(address, task_queue, defs_file)
        result: FetchRunResult = await client.get_workflow_handle(
            handle.id, result_type=FetchRunResult
        ).result()
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
    assert result.status == "done"
    assert applied_at_kill < 22  # the kill really happened mid-run
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
    pages = result.counts.pages
    reread = (await source_state(source.url))["data_requests"] - pages
    assert reread <= (1 if group == 1 else 2), reread  # the page being applied (+ the one read ahead)
    reapplied = await _requests(sink.url) - 22  # one target request per record
    assert 0 <= reapplied <= 4, reapplied  # at most the one page (4 records) being applied


@pytest.fixture
def db_path(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "temporal.db"


def _start_dev_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    binary = str(Path(sys.executable).parent / "temporal")
    return subprocess.Popen(
        [
            binary,
            "server",
            "start-dev",
            "--headless",
            "--db-filename",
            str(db),
            "--port",
            str(port),
            "--ui-port",
            str(free_port()),
            "--log-level",
            "error",
            *sa.cli_flags(),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _connect_when_up(address: str) -> Client:
    for _ in range(200):
        try:
            return await connect(address, "default")
        except Exception:
            await asyncio.sleep(0.1)
    raise TimeoutError(f"dev server at {address} did not come up")


@pytest.fixture
async def own_server(db_path: Path) -> AsyncIterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    port = free_port()
    procs = [_start_dev_server(db_path, port)]
    try:
        yield port, procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=20)


async def test_dev_server_restarted_mid_run_completes(
    own_server: tuple[int, list[subprocess.Popen[bytes]]],
    db_path: Path,
    task_queue: str,
    source: Served,
    sink: Served,
) -> None:
    port, procs = own_server
    address = f"127.0.0.1:{port}"
    client = await _connect_when_up(address)
    await admin(source.url, "POST", "/_sandbox/faults", {"path": "/api/", "action": "delay", "delay_s": 0.2})
    name = await apply(client, definitions(source.url, sink.url), task_queue)
    async with build_worker(client, task_queue):
        handle = await fc.run_now(client, name)

        async def two_pages() -> bool:
            p = await progress(client, name)
            return p is not None and p.counts.pages >= 2

        assert await eventually(two_pages, attempts=300)
        procs[0].send_signal(signal.SIGTERM)
        procs[0].wait(timeout=30)
        procs.append(_start_dev_server(db_path, port))
        await _connect_when_up(address)
        result: FetchRunResult = await client.get_workflow_handle(
            handle.id, result_type=FetchRunResult
        ).result()
    assert result.status == "done"
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
