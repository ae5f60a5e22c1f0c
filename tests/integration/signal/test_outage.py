"""A destination outage (compressed in time) and an event store that cannot commit.

Outage: every event accepted with a 2xx while the destination answers 503 is delivered once it
is back, exactly once per Idempotency-Key among the successful answers, in order per record;
the shard's history stays small (events live in the store), and `explain` and the shard's
query answer throughout. Store down: the receiver answers 503, acknowledges nothing it did not
store, and recovers by itself.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from typing import Any

import httpx
from temporalio.client import Client

from client.flow_control import explain, shard_ids
from eventsync.store import open_store
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker
from workflows.flow import SignalShardWorkflow

RECORDS = [f"U{i}" for i in range(60)]
ROUNDS = 4


async def test_events_accepted_during_an_outage_are_all_delivered_once_in_order(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        async with httpx.AsyncClient(timeout=30) as http:
            await http.post(dest.url + "/_sandbox/faults", json={"path": "/hook", "status": 503, "times": 1_000_000})
            defs, flow = flow_def(dest.url, shards=2)
            async with build_worker(client, task_queue, definitions=defs):
                with receiver(client, defs, task_queue) as rx:
                    sem = asyncio.Semaphore(16)

                    async def send(rec: str, i: int) -> None:
                        async with sem:
                            r = await post_event(http, rx.url, event(rec, i))
                            assert r.status_code == 200, r.text

                    for i in range(ROUNDS):
                        await asyncio.gather(*(send(rec, i) for rec in RECORDS))
                    # the destination is down: the shards wait, and say so; explain answers
                    async def paused() -> list[Any]:
                        out = []
                        for wid in await shard_ids(client, flow.name):
                            s = await client.get_workflow_handle(wid).query(SignalShardWorkflow.summary)
                            if s.waiting_until:
                                out.append(s)
                        return out

                    deadline = asyncio.get_running_loop().time() + 60
                    while len(await paused()) < 2:
                        assert asyncio.get_running_loop().time() < deadline, "shards never paused"
                        await asyncio.sleep(0.3)
                    story = await explain(flow.name, RECORDS[0])
                    assert any(e["decision"] == "retrying" for e in story), story
                    assert open_store().pending(flow.name) == len(RECORDS) * ROUNDS
                    await asyncio.sleep(3)  # several probes fail
                    await http.delete(dest.url + "/_sandbox/faults")
                    d = await wait_for(
                        dest, lambda d: all(len(d.seqs(r)) >= ROUNDS for r in RECORDS), timeout=120
                    )
    for rec in RECORDS:
        assert d.seqs(rec) == list(range(ROUNDS)), rec
    ok = [r for r in d.requests if r["status"] == 200]
    keys = [r["headers"]["idempotency-key"] for r in ok]
    assert len(ok) == len(set(keys)) == len(RECORDS) * ROUNDS  # exactly once per key
    assert open_store().pending(flow.name) == 0
    for wid in await shard_ids(client, flow.name, running_only=False):
        async for w in client.list_workflows(f'WorkflowId="{wid}"'):
            hist = await client.get_workflow_handle(w.id, run_id=w.run_id).fetch_history()
            assert len(hist.to_json()) < 1_000_000  # offsets and counts, never the events


async def test_a_store_that_cannot_commit_gets_503_and_recovers_by_itself(
    client: Client, task_queue: str, tmp_path: Any
) -> None:
    url = "sqlite:///" + str(tmp_path / "events.sqlite3")
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        async with httpx.AsyncClient(timeout=60) as http:
            old = os.environ.get("EVENTSYNC_STORE")
            os.environ["EVENTSYNC_STORE"] = url
            try:
                async with build_worker(client, task_queue, definitions=defs):
                    with receiver(client, defs, task_queue) as rx:
                        assert (await post_event(http, rx.url, event("S1", 0))).status_code == 200
                        # another process holds the write lock longer than the receiver waits
                        locker = sqlite3.connect(tmp_path / "events.sqlite3", isolation_level=None)
                        locker.execute("PRAGMA busy_timeout=1")
                        locker.execute("BEGIN EXCLUSIVE")
                        try:
                            doc = event("S1", 1)
                            r = await post_event(http, rx.url, doc)
                            assert r.status_code == 503, r.text
                            assert r.json()["title"] == "Not stored"
                            assert (await http.get(rx.url + "/readyz")).status_code == 503
                        finally:
                            locker.execute("ROLLBACK")
                            locker.close()
                        # nothing was acknowledged that is not stored: the same event again is new
                        assert all(e["event_id"] != doc["id"] for e in await explain(flow.name, "S1"))
                        assert (await post_event(http, rx.url, doc)).status_code == 200
                        assert (await post_event(http, rx.url, event("S1", 2))).status_code == 200
                        d = await wait_for(dest, lambda d: d.seqs("S1") == [0, 1, 2], timeout=60)
                        assert d.seqs("S1") == [0, 1, 2]
            finally:
                if old is None:
                    os.environ.pop("EVENTSYNC_STORE", None)
                else:
                    os.environ["EVENTSYNC_STORE"] = old
