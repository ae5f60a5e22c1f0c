"""End to end: signed webhook -> receiver -> Temporal (real dev server) -> flow shard -> webhook
destination (sandbox), with injected delays and failures."""

from __future__ import annotations

import time

import httpx
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker


async def test_status_sequence_arrives_in_order_despite_delays_and_failures(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        async with httpx.AsyncClient() as http:
            # one in three calls slowed, then five 503s: retries must not let a later status overtake
            await http.post(
                dest.url + "/_sandbox/faults",
                json={"path": "/hook", "action": "delay", "delay_s": 0.3, "rate": 0.3},
            )
            await http.post(dest.url + "/_sandbox/faults", json={"path": "/hook", "status": 503, "times": 5})
            defs, _ = flow_def(dest.url)
            async with build_worker(client, task_queue):
                with receiver(client, defs, task_queue) as rx:
                    statuses = ["Registered", "Invited", "Accepted", "Attended", "Cancelled"]
                    for i, st in enumerate(statuses):
                        for rec in ("R1", "R2", "R3"):
                            r = await post_event(http, rx.url, event(rec, i, st))
                            assert r.status_code == 200, r.text
                    d = await wait_for(dest, lambda d: all(len(d.seqs(r)) >= 5 for r in ("R1", "R2", "R3")))
    for rec in ("R1", "R2", "R3"):
        assert d.seqs(rec) == [0, 1, 2, 3, 4]
    assert any(r["status"] == 503 for r in d.requests)  # the failures really happened


async def test_same_event_twice_reaches_destination_once(client: Client, task_queue: str) -> None:
    with destination() as dest:
        defs, _ = flow_def(dest.url)
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                ev = event("D1", 0)
                assert (await post_event(http, rx.url, ev)).status_code == 200
                # the platform retrying: same event, signed again a moment later
                assert (await post_event(http, rx.url, ev, ts=int(time.time()) + 1)).status_code == 200
                marker = event("D1", 1)
                assert (await post_event(http, rx.url, marker)).status_code == 200
                d = await wait_for(dest, lambda d: 1 in d.seqs("D1"))
    hits = [r for r in d.requests if r["headers"].get("x-eventsync-event-id") == ev["id"]]
    assert len(hits) == 1
    assert d.seqs("D1") == [0, 1]
