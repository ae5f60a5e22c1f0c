"""A connection with a task queue of its own: however many workers run the flow shards, its
deliveries run only on the worker(s) polling that queue, so one process paces the vendor's
account limit and the vendor never answers "too many calls" (Marketo 606)."""

from __future__ import annotations

import subprocess

import httpx
from temporalio.client import Client

from client.flow_control import shard_ids
from eventsync.definitions import Definitions
from sandbox import marketo
from sandbox.serving import served
from tests.integration.destinations.harness import delivered_seqs, state, until
from tests.integration.signal.harness import post_event, receiver
from tests.support.worker_proc import start_worker
from tests.unit.destinations.support import connection, event_doc, flow

RECORDS = [f"Q{i}" for i in range(6)]


async def test_deliveries_pinned_to_the_connections_queue_are_paced_once_across_workers(
    client: Client, task_queue: str
) -> None:
    queue = f"{task_queue}-marketo"
    with served(marketo.create_app()) as emu:
        async with httpx.AsyncClient(timeout=30) as http:
            # Marketo's window is 20 s; this account gets 8 calls in it, and the flow is told so
            # (0.4 calls/s = 8 per window). Two workers pacing on their own would make up to 16.
            await http.patch(emu.url + "/_sandbox/settings", json={"rate_limit": 8, "rate_window_s": 20.0})
            conn = connection("marketo", emu.url).model_copy(update={"task_queue": queue})
            f = flow("marketo", conn.name, shards=4, batching={"batch_size": 1, "calls_per_second": 0.4})
            defs = Definitions(connections=[conn], flows=[f])  # type: ignore[call-arg]
            procs: list[subprocess.Popen[str]] = []
            try:
                procs += [start_worker(client, task_queue, defs) for _ in range(2)]  # the flow shards
                procs.append(start_worker(client, queue, defs))  # the connection's deliveries
                with receiver(client, defs, task_queue) as rx:
                    for rec in RECORDS:
                        assert (await post_event(http, rx.url, event_doc(rec, 0))).status_code == 200

                    async def all_delivered() -> bool:
                        return all([await delivered_seqs(client, f, r) == [0] for r in RECORDS])

                    await until(all_delivered, timeout=120, what="every record delivered")
            finally:
                for p in procs:
                    p.kill()
                    p.wait()
            st = await state(http, emu.url)
    # Six records, a Sync Leads and a program-status call each: past one window, and never a 606.
    assert len(st["leads"]) == len(RECORDS)
    assert st["counters"].get("606", 0) == 0, st["counters"]
    scheduled = []
    for wid in await shard_ids(client, f.name, running_only=False):
        history = await client.get_workflow_handle(wid).fetch_history()
        scheduled += [
            e.activity_task_scheduled_event_attributes.task_queue.name
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
        ]
    assert scheduled and set(scheduled) == {queue}, scheduled
