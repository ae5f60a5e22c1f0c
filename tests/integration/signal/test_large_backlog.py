"""A backlog of large events (~4.8 MB, far over one Temporal payload) arriving together: every
one is stored and delivered in order, and none of it passes through Temporal (the shard's
history stays small: events live in the event store)."""

from __future__ import annotations

import asyncio

import httpx
from temporalio.api.enums.v1 import WorkflowTaskFailedCause
from temporalio.client import Client

from eventsync.flows.sharding import workflow_id
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker

RECORDS = [f"L{i}" for i in range(40)]  # posted side by side: the router has 2.4 MB to send at once
SEQS = 2
PAD = 60_000  # bytes per event: 80 events queued are ~4.8 MB, far over one payload


async def test_a_backlog_over_the_payload_limit_drains_then_continues_as_new(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        # one record per call, slowed: the queue builds up while the history passes the (test
        # server's lowered) continue-as-new suggestion
        defs, flow = flow_def(dest.url, shards=1, batching={"batch_size": 1})
        async with httpx.AsyncClient(timeout=60) as http, build_worker(client, task_queue):
            await http.post(
                dest.url + "/_sandbox/faults", json={"path": "/hook", "action": "delay", "delay_s": 0.05}
            )
            with receiver(client, defs, task_queue) as rx:

                async def send(rec: str) -> None:
                    for i in range(SEQS):
                        doc = event(rec, i)
                        doc["data"]["notes"] = "x" * PAD
                        r = await post_event(http, rx.url, doc)
                        assert r.status_code == 200, r.text

                await asyncio.gather(*(send(r) for r in RECORDS))
                d = await wait_for(dest, lambda d: all(len(d.seqs(r)) >= SEQS for r in RECORDS), timeout=120)
    for rec in RECORDS:
        assert d.seqs(rec) == list(range(SEQS))
    runs = [w async for w in client.list_workflows(f'WorkflowId="{workflow_id(flow.name, 0)}"')]
    assert runs
    for w in runs:
        history = await client.get_workflow_handle(w.id, run_id=w.run_id).fetch_history()
        assert history.to_json_dict() and len(history.to_json()) < 200_000  # offsets, not events
        causes = [
            e.workflow_task_failed_event_attributes.cause
            for e in history.events
            if e.HasField("workflow_task_failed_event_attributes")
        ]
        assert WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_PAYLOADS_TOO_LARGE not in causes
