"""The smoke workflow runs on a real dev server and is findable by our search attributes."""

import asyncio
import uuid

from temporalio.client import Client

from activities.smoke import PingInput
from worker.main import build_worker
from workflows.smoke import SmokeWorkflow


async def test_smoke_round_trip_and_search_attributes(client: Client, task_queue: str) -> None:
    wf_id = f"smoke-{uuid.uuid4()}"
    async with build_worker(client, task_queue):
        result = await client.execute_workflow(
            SmokeWorkflow.run, PingInput(message="hi"), id=wf_id, task_queue=task_queue
        )
    assert result.echo == "hi"
    assert result.worker == task_queue
    found: list[str] = []
    for _ in range(50):  # visibility is eventually consistent
        found = [
            w.id
            async for w in client.list_workflows(
                f"EventsyncKind='smoke' AND EventsyncStatus='done' AND WorkflowId='{wf_id}'"
            )
        ]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [wf_id]


async def test_time_skipping_env_is_available(ts_env) -> None:  # type: ignore[no-untyped-def]
    assert ts_env.supports_time_skipping
