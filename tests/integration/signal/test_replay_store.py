"""Replay from the event store: the events received in a window go through the flow again, in
order, under fresh ids marked replay; a bad time is one clear line, never a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from temporalio.client import Client

from client.flow_control import explain, replay
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker

ROOT = Path(__file__).resolve().parents[3]


async def test_replay_resends_the_window_from_the_store_in_order(client: Client, task_queue: str) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, skip_unchanged=False)
        async with httpx.AsyncClient() as http, build_worker(client, task_queue, definitions=defs):
            with receiver(client, defs, task_queue) as rx:
                start = time.time()
                for i in range(3):
                    for rec in ("A", "B"):
                        assert (await post_event(http, rx.url, event(rec, i))).status_code == 200
                await wait_for(dest, lambda d: d.seqs("A") == [0, 1, 2] and d.seqs("B") == [0, 1, 2])
                end = time.time() + 1
                iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
                sent = await replay(client, defs, flow.name, iso(start), iso(end), None, task_queue)
                assert sent == 6
                d = await wait_for(dest, lambda d: d.seqs("A") == [0, 1, 2] * 2 and d.seqs("B") == [0, 1, 2] * 2)
                story = await explain(flow.name, "A")
    assert d.seqs("A") == [0, 1, 2, 0, 1, 2]
    replayed = [e for e in story if e["decision"] == "delivered" and e["event_id"].startswith("replay-")]
    assert len(replayed) == 3


async def test_replay_with_a_bad_time_says_so_plainly(tmp_path: Path) -> None:
    defs = tmp_path / "d.yaml"
    defs.write_text("connections: []\nflows: []\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", "replay", "-d", str(defs), "--flow", "f", "--from", "yesterday",
        "--to", "2026-11-02", cwd=ROOT, env=dict(os.environ),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    assert proc.returncode == 2, out
    assert "'yesterday' is not an ISO 8601 time" in out and "--from" in out and "Traceback" not in out, out
