"""`eventsync fetch schedule pause|unpause|trigger|backfill` as a user runs them, and a cron
schedule with a time zone, checked with `temporal schedule describe` on the real dev server."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow

from eventsync.fetch.models import FetchRunResult
from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    apply,
    assert_target_matches_source,
    definitions,
    eventually,
    source_records,
    target_records,
)
from workflows.fetch import schedule_id

pytestmark = pytest.mark.temporal

ROOT = Path(__file__).resolve().parents[3]


async def _run(*argv: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    return proc.returncode or 0, out.decode()


async def _eventsync(address: str, *args: str) -> str:
    code, out = await _run(sys.executable, "-m", "client", "fetch", "schedule", *args, "--address", address)
    assert code == 0, out
    return out


async def _describe(address: str, name: str) -> dict[str, Any]:
    temporal = str(Path(sys.executable).parent / "temporal")
    code, out = await _run(
        temporal,
        "schedule",
        "describe",
        "--schedule-id",
        schedule_id(name),
        "--address",
        address,
        "-o",
        "json",
    )
    assert code == 0, out
    return dict(json.loads(out))


async def _started_runs(client: Client, name: str) -> list[str]:
    desc = await client.get_schedule_handle(schedule_id(name)).describe()
    return [
        a.action.workflow_id
        for a in desc.info.recent_actions
        if isinstance(a.action, ScheduleActionExecutionStartWorkflow)
    ]


async def _result(client: Client, workflow_id: str) -> FetchRunResult:
    handle = client.get_workflow_handle(workflow_id, result_type=FetchRunResult)
    return await asyncio.wait_for(handle.result(), 60)


async def test_cron_with_time_zone_pause_trigger_unpause(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    address = client.service_client.config.target_host
    # 03:00 in Lisbon: a time the test never reaches, so every run here is one we asked for.
    defs = definitions(source.url, sink.url, schedule={"cron": "0 3 * * *", "time_zone": "Europe/Lisbon"})
    name = await apply(client, defs, task_queue)

    desc = await _describe(address, name)
    spec = desc["schedule"]["spec"]
    assert spec["timezoneName"] == "Europe/Lisbon", spec
    # The server keeps the cron as a calendar: hour 3, minute 0 (JSON leaves out zeros), in that zone.
    [calendar] = spec["structuredCalendar"]
    assert calendar["hour"] == [{"start": 3, "end": 3, "step": 1}], calendar
    [minute] = calendar["minute"]
    assert (minute.get("start", 0), minute.get("end", 0)) == (0, 0), calendar
    next_times = [datetime.fromisoformat(t) for t in desc["info"]["futureActionTimes"]]
    assert next_times and all(
        (t.astimezone(ZoneInfo("Europe/Lisbon")).hour, t.minute) == (3, 0) for t in next_times
    ), next_times
    assert not desc["schedule"]["state"].get("paused")

    out = await _eventsync(address, "pause", name, "--note", "maintenance window")
    assert f"fetch {name}: schedule paused" in out
    state = (await _describe(address, name))["schedule"]["state"]
    assert state.get("paused") is True and state["notes"] == "maintenance window", state

    # Paused means no *scheduled* runs: an operator's trigger still runs (Temporal triggers ignore
    # the pause), and that is what we document.
    out = await _eventsync(address, "trigger", name)
    assert f"started fetch:{name}-" in out, out
    run_id = out.split("started ", 1)[1].strip()
    result = await _result(client, run_id)
    assert result.status == "done" and result.counts.applied == 22
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
    assert (await _describe(address, name))["schedule"]["state"].get("paused") is True  # still paused

    out = await _eventsync(address, "unpause", name)
    assert f"fetch {name}: schedule unpaused" in out
    desc = await _describe(address, name)
    assert not desc["schedule"]["state"].get("paused")
    assert desc["schedule"]["state"]["notes"] == "unpaused with eventsync fetch schedule unpause"
    assert desc["info"]["futureActionTimes"], "an unpaused cron schedule has next times"


async def test_backfill_runs_each_time_of_the_window_in_turn(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    address = client.service_client.config.target_host
    # Every minute, but paused: only the backfill runs it (a backfill runs on a paused schedule).
    # The window holds exactly two times.
    defs = definitions(source.url, sink.url, schedule={"every_s": 60, "paused": True})
    name = await apply(client, defs, task_queue)
    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    start, end = minute - timedelta(minutes=3, seconds=-30), minute - timedelta(seconds=30)
    expected = [minute - timedelta(minutes=2), minute - timedelta(minutes=1)]

    # --start/--end are naive times, read as the local time of the machine running the CLI.
    fmt = "%Y-%m-%dT%H:%M:%S"
    out = await _eventsync(
        address,
        "backfill",
        name,
        "--start",
        start.astimezone().strftime(fmt),
        "--end",
        end.astimezone().strftime(fmt),
    )
    assert "backfill" in out and "requested" in out, out

    async def both_started() -> list[str] | None:
        ids = await _started_runs(client, name)
        return ids if len(ids) >= 2 else None

    ids = await eventually(both_started, attempts=300)
    assert ids, "the backfill started its runs"
    assert [i.removeprefix(f"fetch:{name}-") for i in ids] == [
        t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in expected
    ], ids
    first, second = [await _result(client, i) for i in ids]
    assert first.status == second.status == "done"
    assert first.counts.fetched == 22
    # The second run of the backfill starts where the first ended: only the boundary ties again.
    assert 0 < second.counts.fetched <= 3
    assert second.carry.checkpoint == first.carry.checkpoint
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
    await asyncio.sleep(1)
    assert len(await _started_runs(client, name)) == 2  # nothing else ran: the schedule stays paused
