"""The `eventsync fetch` commands, as a user runs them, against the real dev server."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from temporalio.client import Client

from sandbox.serving import Served
from tests.integration.fetch.helpers import apply, definitions

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).resolve().parents[3]


async def _cli(address: str, *args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "fetch", *args, "--address", address,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def test_fetch_cli_run_status_reset_and_schedule(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, tmp_path: Path
) -> None:
    address = client.service_client.config.target_host
    defs = definitions(source.url, sink.url, name="cli-fetch")
    path = tmp_path / "eventsync.yaml"
    path.write_text(json.dumps(defs.model_dump(mode="json", exclude_none=True)))  # JSON is YAML
    # `eventsync apply` would target the default task queue; this test's worker has its own.
    await apply(client, defs, task_queue)

    code, out = await _cli(address, "schedule", "trigger", "cli-fetch")
    assert code == 0 and "started fetch:cli-fetch-" in out, out
    for _ in range(100):
        code, out = await _cli(address, "status", "cli-fetch")
        if "last run:" in out and "done" in out:
            break
        await asyncio.sleep(0.2)
    assert "22 fetched, 22 applied, 0 rejected" in out, out
    assert "schedule paused (manual only" in out

    code, out = await _cli(
        address, "reset", "cli-fetch", "--checkpoint", "2026-01-01T00:00:05Z", "-d", str(path)
    )
    assert code == 0 and "next run starts from 2026-01-01T00:00:05+00:00" in out, out
    code, out = await _cli(address, "reset", "cli-fetch", "--checkpoint", "not a date", "-d", str(path))
    assert code == 1 and "neither ISO-8601 nor epoch seconds" in out, out
    code, out = await _cli(address, "resume", "cli-fetch")
    assert code == 1 and "nothing to resume" in out, out
    code, out = await _cli(address, "status", "nope")
    assert code == 1 and "run `eventsync apply` first" in out, out


async def test_status_and_resume_without_a_worker_say_so(
    client: Client, task_queue: str, source: Served, sink: Served
) -> None:
    # No worker polls this task queue: the run starts, but nobody can answer its progress query.
    address = client.service_client.config.target_host
    defs = definitions(source.url, sink.url, name="orphan-fetch")
    await apply(client, defs, task_queue)
    code, out = await _cli(address, "schedule", "trigger", "orphan-fetch")
    assert code == 0 and "started fetch:orphan-fetch-" in out, out

    code, out = await _cli(address, "status", "orphan-fetch")
    assert code == 0, out
    assert "progress unknown" in out and "no worker answered within 10 s" in out, out
    assert "`eventsync worker`" in out, out
    code, out = await _cli(address, "resume", "orphan-fetch")
    assert code == 1 and "no worker answered" in out and "Traceback" not in out, out
    code, out = await _cli(address, "cancel", "orphan-fetch")
    assert code == 0, out
