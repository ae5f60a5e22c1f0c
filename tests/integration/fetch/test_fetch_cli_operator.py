"""Operator experience of `eventsync fetch` (issue 16 items 1, 6, 7, 10, 11): the real CLI in a
subprocess against the session's dev server, a worker with the definitions, the sandbox source
and a webhook target."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities import context
from client import fetch_control as fc
from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    eventually,
    progress,
    source_records,
    target_records,
)
from worker.main import build_worker

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).resolve().parents[3]


async def _eventsync(*args: str, timeout: float = 90) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", *args,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    return proc.returncode or 0, out.decode()


def _write(defs: Any, path: Path) -> Path:
    path.write_text(json.dumps(defs.model_dump(mode="json", exclude_unset=True)))  # JSON is YAML
    return path


async def test_run_wait_follows_to_the_result_with_plain_progress_lines(
    client: Client, task_queue: str, source: Served, sink: Served, tmp_path: Path
) -> None:
    address = client.service_client.config.target_host
    defs = definitions(source.url, sink.url, pagination={"total_path": "$.total"})
    name = defs.fetches[0].name
    path = _write(defs, tmp_path / "eventsync.yaml")
    await admin(source.url, "POST", "/_sandbox/faults", {"path": "/api/", "action": "delay", "delay_s": 0.4})
    async with build_worker(client, task_queue, definitions=defs):
        code, out = await _eventsync(
            "fetch", "run", name, "--wait", "-d", str(path), "--address", address, "--task-queue", task_queue
        )
    assert code == 0 and "Traceback" not in out, out
    assert "done; 6 pages, 22 fetched, 22 applied, 0 rejected" in out, out
    # stdout is a pipe here: plain progress lines, with the source's total
    lines = [
        line for line in out.splitlines() if line.startswith(f"fetch {name}: ") and "/22 records" in line
    ]
    assert len(lines) >= 2, out
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


async def test_a_template_error_parks_at_once_visibly_and_resume_runs_the_fixed_definition(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, tmp_path: Path
) -> None:
    address = client.service_client.config.target_host
    # A lookup path naming a record field that no record has: only a run can find that out.
    bad = definitions(
        source.url,
        sink.url,
        lookups=[{"path": "/_sandbox/records/{{record.C_DateModifed}}", "into": "extra"}],
        retry={"maximum_attempts": 8, "initial_interval_s": 1, "maximum_interval_s": 5},
    )
    name = await apply(client, bad, task_queue)
    path = _write(bad, tmp_path / "eventsync.yaml")
    code, out = await _eventsync(
        "fetch", "run", name, "--wait", "-d", str(path), "--address", address, "--task-queue", task_queue,
        timeout=60,
    )  # fmt: skip
    # --wait says so at once, with the reason and the command, and exits non-zero (item 10)
    assert code == 3 and "Traceback" not in out, out
    assert "parked" in out and "'record' has no field 'C_DateModifed'" in out, out
    assert f"eventsync fetch resume {name}" in out, out
    run = await fc.running_run(client, name)
    assert run is not None
    attempts = [
        e.activity_task_started_event_attributes.attempt
        async for e in run.fetch_history_events()
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert attempts[-1] == 1, attempts  # permanent at once: no 8 attempts over minutes

    code, out = await _eventsync("fetch", "status", name, "--address", address)
    assert code == 0 and "parked on: " in out and "C_DateModifed" in out, out
    assert f"eventsync fetch resume {name}" in out and "{'" not in out, out
    code, out = await _eventsync("fetch", "run", name, "-d", str(path), "--address", address, "--task-queue", task_queue)  # fmt: skip
    assert code == 1 and "already running and parked" in out, out
    old = (await progress(client, name)).definition_hash

    # The operator fixes the definition and gives it to the worker; `resume` runs it (item 6).
    fixed = definitions(source.url, sink.url, name=name, retry=bad.fetches[0].retry.model_dump())
    context.register(task_queue, fixed)
    code, out = await _eventsync("fetch", "resume", name, "--address", address)
    assert code == 0, out

    async def ended() -> bool:
        return await fc.running_run(client, name) is None

    assert await eventually(ended, attempts=200)
    code, out = await _eventsync("fetch", "status", name, "--address", address)
    assert code == 0 and "done; 6 pages, 22 fetched, 22 applied" in out, out
    new = context.content_hash(fixed.fetches[0])
    assert f"resumed with definition {new} (was {old})" in out and old != new, out
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


async def test_validate_names_an_unknown_template_variable_with_did_you_mean(
    source: Served, sink: Served, tmp_path: Path
) -> None:
    defs = definitions(source.url, sink.url).model_dump(mode="json", exclude_unset=True)
    fetch = defs["fetches"][0]
    fetch["variables"] = {"C_DateModified": "2026-01-01"}
    fetch["request"]["path"] = "/api/page?lastUpdatedAt>'{{C_DateModifed}}'"
    path = tmp_path / "eventsync.yaml"
    path.write_text(json.dumps(defs))
    code, out = await _eventsync("validate", str(path))
    assert code != 0 and "Traceback" not in out, out
    assert (
        "request.path: unknown template variable {{C_DateModifed}}; did you mean {{C_DateModified}}?" in out
    ), out


async def test_status_on_a_paused_schedule_shows_no_next_runs_and_human_values(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    address = client.service_client.config.target_host
    defs = definitions(source.url, sink.url, schedule={"every_s": 3600, "paused": True})
    name = await apply(client, defs, task_queue)
    code, out = await _eventsync("fetch", "status", name, "--address", address)
    assert code == 0, out
    assert "next runs: none while paused" in out, out
    assert "T" not in out.split("next runs:")[1].splitlines()[0], (
        out
    )  # no ISO times of runs that will not happen
