"""A shard rolls over by the size its history grew, not only at the server's suggestion: a
refused continue-as-new costs a replay of the whole history, so a short one keeps that stall
short. A shard that goes quiet rolls over early (its state is smallest then), once, and the new
run carries on: counters, order, and the next events."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from eventsync.signal.sharding import workflow_id
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker
from workflows.flow import ROLL_IDLE_HISTORY_BYTES, FlowShardWorkflow

RECORDS = ["S1", "S2", "S3", "S4"]
PAD = 30_000  # 12 events of ~30 KB: the history grows past the quiet threshold, in few events


async def test_a_quiet_shard_rolls_over_by_history_size_once_and_carries_on(client: Client, task_queue: str) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        wid = workflow_id(flow.name, 0)
        async with httpx.AsyncClient(timeout=60) as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:

                async def send(rec: str, seqs: range) -> None:
                    for i in seqs:
                        doc = event(rec, i)
                        doc["data"]["notes"] = "x" * PAD
                        r = await post_event(http, rx.url, doc)
                        assert r.status_code == 200, r.text

                await asyncio.gather(*(send(r, range(3)) for r in RECORDS))
                await wait_for(dest, lambda d: all(len(d.seqs(r)) >= 3 for r in RECORDS))

                runs = await _runs(client, wid, at_least=2)
                await asyncio.sleep(2)  # a roll-over loop would show as more runs by now
                assert len(await _runs(client, wid, at_least=2)) == len(runs)
                first = runs[-1]  # listed newest first
                assert first.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
                handle = client.get_workflow_handle(wid, run_id=first.run_id)
                info = (await handle.describe()).raw_description.workflow_execution_info
                # Far below the server's suggestion (200 events in the test server): size decided.
                assert info.history_length < 100, info.history_length
                assert info.history_size_bytes > ROLL_IDLE_HISTORY_BYTES

                summary = await client.get_workflow_handle(wid).query(FlowShardWorkflow.summary)
                assert summary.counters.delivered == 12 and summary.pending == 0

                await asyncio.gather(*(send(r, range(3, 4)) for r in RECORDS))
                d = await wait_for(dest, lambda d: all(len(d.seqs(r)) >= 4 for r in RECORDS))
    for rec in RECORDS:
        assert d.seqs(rec) == [0, 1, 2, 3]


async def _runs(client: Client, wid: str, at_least: int) -> list[WorkflowExecution]:
    for _ in range(100):  # visibility is eventually consistent
        runs = [w async for w in client.list_workflows(f'WorkflowId="{wid}"')]
        if len(runs) >= at_least:
            return runs
        await asyncio.sleep(0.2)
    raise AssertionError(f"{wid}: {len(runs)} run(s), expected at least {at_least}")
