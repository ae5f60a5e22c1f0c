"""An operator's cancel (the workflow closes while its activity runs, as `fetch cancel` does) is
one line in the worker's log, not the cancellation's traceback; a real failure keeps its own."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.support.cancel_workflow import CancelledLikeAFetch, heartbeats_until_cancelled
from worker.main import build_worker


def _activity_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "temporalio.activity" and r.levelno >= logging.WARNING]


async def test_a_cancelled_activity_is_one_line(
    client: Client, task_queue: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="temporalio.activity")
    worker = build_worker(
        client, task_queue, workflows=[CancelledLikeAFetch], activities=[heartbeats_until_cancelled]
    )
    async with worker:
        handle = await client.start_workflow(
            CancelledLikeAFetch.run, False, id=f"cancel-{uuid.uuid4()}", task_queue=task_queue
        )
        await asyncio.sleep(1)
        await handle.cancel()
        assert await handle.result() == "cancelled"
        for _ in range(50):  # the activity learns of it at its next heartbeat
            if _activity_records(caplog):
                break
            await asyncio.sleep(0.1)
        records = _activity_records(caplog)
        assert [r.getMessage() for r in records] == [
            f"activity test.heartbeats_until_cancelled cancelled (workflow {handle.id}, attempt 1)"
        ]
        assert records[0].exc_info is None

        caplog.clear()
        failing = await client.start_workflow(
            CancelledLikeAFetch.run, True, id=f"fail-{uuid.uuid4()}", task_queue=task_queue
        )
        with pytest.raises(WorkflowFailureError):
            await failing.result()
        failed = _activity_records(caplog)
        assert len(failed) == 1 and failed[0].exc_info is not None
