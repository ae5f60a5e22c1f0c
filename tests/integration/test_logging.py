"""Logs written by real workflow and activity code carry their workflow and run ids."""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client

from eventsync.logs import JsonFormatter, RedactingFilter
from worker.main import build_worker


@activity.defn(name="log_test_activity")
async def log_test_activity(email: str) -> str:
    activity.logger.info("delivering with Authorization: Bearer tok-xyz-987")
    return email


@workflow.defn(name="LogTestWorkflow", sandboxed=False)
class LogTestWorkflow:
    @workflow.run
    async def run(self, email: str) -> str:
        workflow.logger.info("deciding")
        return await workflow.execute_activity(
            log_test_activity, email, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_workflow_and_activity_logs_carry_ids(client: Client, task_queue: str) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        async with build_worker(
            client, task_queue, workflows=[LogTestWorkflow], activities=[log_test_activity]
        ):
            handle = await client.start_workflow(
                LogTestWorkflow.run, "x@example.com", id=f"log-{uuid.uuid4()}", task_queue=task_queue
            )
            await handle.result()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line.get("workflow_id") == handle.id]
    messages = {line["message"].split(" (")[0]: line for line in ours}
    assert "deciding" in messages, lines
    decided = messages["deciding"]
    assert decided["run_id"] == handle.result_run_id and decided["workflow_type"] == "LogTestWorkflow"
    [delivering] = [line for line in ours if line["message"].startswith("delivering")]
    assert delivering["run_id"] == handle.result_run_id
    assert delivering["activity_type"] == "log_test_activity"
    assert "tok-xyz-987" not in stream.getvalue()
