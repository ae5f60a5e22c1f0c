"""A Signal flow's events, decisions and deliveries show up in the metrics."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from tests.support.otel import captured, metric_points
from worker.main import build_worker


def _total(name: str, **attrs: str) -> float:
    return sum(v for a, v in metric_points(name) if all(a.get(k) == want for k, want in attrs.items()))


async def test_flow_counts_events_decisions_and_deliveries(client: Client, task_queue: str) -> None:
    captured()
    with destination() as dest:
        defs, flow = flow_def(dest.url)
        before = (
            _total("eventsync.events.received", flow=flow.name),
            _total("eventsync.deliveries", flow=flow.name, outcome="delivered"),
        )
        async with httpx.AsyncClient() as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                for seq in (0, 1):
                    assert (await post_event(http, rx.url, event("M1", seq))).status_code == 200
                await wait_for(dest, lambda d: 1 in d.seqs("M1"))
    assert _total("eventsync.events.received", flow=flow.name) - before[0] == 2
    delivered = _total("eventsync.deliveries", flow=flow.name, outcome="delivered") - before[1]
    assert delivered == 2
    assert _total("eventsync.decisions", flow=flow.name, decision="send") >= 2
