"""An event whose rendered body equals the last one delivered for its record is skipped (the
platform emits updates the mapping does not carry; each would spend vendor quota), shown as
`skipped: unchanged` in explain and counted under that rule; `skip_unchanged: false` sends all."""

from __future__ import annotations

import httpx
from temporalio.client import Client

from client.flow_control import explain
from client.insights import InsightsCollector
from eventsync.flows.delivery import UNCHANGED_RULE
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from worker.main import build_worker

MAPPING = {"fields": {"code": "$.record.registrationCode", "status": "$.status"}}


async def _run(client: Client, task_queue: str, skip: bool) -> tuple[list[str], list[dict[str, object]], str]:
    with destination() as dest:
        defs, flow = flow_def(
            dest.url, shards=1, skip_unchanged=skip,
            destination={"kind": "webhook", "connection": "dest", "path": "/hook", "mapping": MAPPING},
        )  # fmt: skip
        async with httpx.AsyncClient() as http, build_worker(client, task_queue, definitions=defs):
            with receiver(client, defs, task_queue) as rx:
                for i, status in enumerate(["Registered", "Registered", "Attended", "Attended"]):
                    assert (await post_event(http, rx.url, event("U1", i, status))).status_code == 200

                    async def settled(i: int = i) -> bool:
                        got = await explain(flow.name, "U1")
                        return sum(1 for e in got if e["decision"] in ("delivered", "skipped")) > i

                    for _ in range(100):
                        if await settled():
                            break
                        await __import__("asyncio").sleep(0.1)
                d = await wait_for(dest, lambda d: True)
                story = await explain(flow.name, "U1")
    return [r["json"]["status"] for r in d.ok()], story, flow.name


async def test_an_unchanged_body_is_skipped_and_shown(client: Client, task_queue: str) -> None:
    sent, story, name = await _run(client, task_queue, skip=True)
    assert sent == ["Registered", "Attended"]
    assert [e["decision"] for e in story] == ["delivered", "skipped", "delivered", "skipped"]
    assert all(e["rule"] == UNCHANGED_RULE for e in story if e["decision"] == "skipped")
    insight = (await InsightsCollector(client).collect(minutes=5, name=name)).flows[0]
    assert insight.skipped_by.get(UNCHANGED_RULE) == 2 and insight.totals["delivered"] == 2


async def test_a_flow_can_opt_out(client: Client, task_queue: str) -> None:
    sent, _, _ = await _run(client, task_queue, skip=False)
    assert sent == ["Registered", "Registered", "Attended", "Attended"]
