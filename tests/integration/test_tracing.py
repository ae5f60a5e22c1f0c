"""One trace from the caller's span (a webhook request, here the test's) through the client's
start, the workflow run and the activity to the destination's HTTP call, with the trace
context arriving at the destination in a traceparent header."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleSpec,
)
from temporalio.testing import WorkflowEnvironment

from activities.smoke import PingInput
from eventsync import telemetry
from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from sandbox import webhook
from sandbox.serving import Served, served
from tests.support.otel import captured, metric_points
from worker.converter import data_converter
from worker.main import build_worker
from worker.tracing import interceptors
from workflows.connection_check import ConnectionCheckWorkflow
from workflows.smoke import SmokeWorkflow


@pytest.fixture
def destination() -> Iterator[tuple[Served, Any]]:
    app = webhook.create_app()
    with served(app) as s:
        yield s, app.state.sandbox


@pytest.fixture
def instrumented() -> Iterator[None]:
    cap = captured()
    telemetry.instrument_httpx_clients(cap.installed.tracer_provider, cap.installed.meter_provider)
    yield
    telemetry.uninstrument_httpx_clients()


async def test_trace_runs_from_caller_through_workflow_to_http_call(
    temporal_env: WorkflowEnvironment, task_queue: str, destination: tuple[Served, Any], instrumented: None
) -> None:
    cap = captured()
    server, recorded = destination
    target = temporal_env.client.service_client.config.target_host
    client = await Client.connect(
        target, namespace="default", data_converter=data_converter(), interceptors=interceptors()
    )
    conn = Connection.model_validate({"name": "traced-dest", "base_url": server.url, "test_path": "/ping"})
    tracer = trace.get_tracer("test")
    async with build_worker(client, task_queue, definitions=Definitions(connections=[conn])):
        with tracer.start_as_current_span("POST /hooks/registration") as root:
            result = await client.execute_workflow(
                ConnectionCheckWorkflow.run, conn.name, id=f"trace-{uuid.uuid4()}", task_queue=task_queue
            )
    assert result.ok, result.message
    trace_id = root.get_span_context().trace_id

    spans = [s for s in cap.spans.get_finished_spans() if s.context and s.context.trace_id == trace_id]
    by_name = {s.name: s for s in spans}
    by_id = {s.context.span_id: s for s in spans if s.context}
    for expected in (
        "StartWorkflow:ConnectionCheckWorkflow",
        "RunWorkflow:ConnectionCheckWorkflow",
        "StartActivity:test_connection",
        "RunActivity:test_connection",
        "GET traced-dest",  # the HTTP core's span
        "GET",  # the httpx instrumentation's wire span
    ):
        assert expected in by_name, f"{expected} missing from {sorted(by_name)}"

    def ancestors(span_name: str) -> list[str]:
        chain, span = [], by_name[span_name]
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            chain.append(span.name)
        return chain

    assert ancestors("GET") == [
        "GET traced-dest",
        "RunActivity:test_connection",
        "StartActivity:test_connection",
        "StartWorkflow:ConnectionCheckWorkflow",
        "POST /hooks/registration",
    ]
    # Temporal's interceptor hangs workflow-side spans off the start's context (workflow code
    # may replay, so its spans are recorded once, on completion).
    assert ancestors("RunWorkflow:ConnectionCheckWorkflow") == [
        "StartWorkflow:ConnectionCheckWorkflow",
        "POST /hooks/registration",
    ]
    assert by_name["GET traced-dest"].attributes["connection"] == "traced-dest"  # type: ignore[index]

    # The destination received the same trace id in its traceparent header.
    [request] = [r for r in recorded.requests if r["path"] == "/ping"]
    assert request["headers"]["traceparent"].split("-")[1] == format(trace_id, "032x")

    # And the HTTP core counted the call.
    points = metric_points("eventsync.http.requests")
    assert any(a == {"connection": "traced-dest", "outcome": "200"} and v >= 1 for a, v in points)


async def test_schedule_started_runs_get_workflow_spans(
    temporal_env: WorkflowEnvironment, task_queue: str
) -> None:
    cap = captured()
    target = temporal_env.client.service_client.config.target_host
    client = await Client.connect(
        target, namespace="default", data_converter=data_converter(), interceptors=interceptors()
    )
    schedule_id = f"sched-{uuid.uuid4()}"
    async with build_worker(client, task_queue):
        schedule = await client.create_schedule(
            schedule_id,
            Schedule(
                action=ScheduleActionStartWorkflow(
                    SmokeWorkflow.run, PingInput(message="scheduled"), id=schedule_id, task_queue=task_queue
                ),
                spec=ScheduleSpec(),
            ),
            trigger_immediately=True,
        )
        try:
            started_id = None
            for _ in range(100):  # bounded: the immediate trigger lands within a few polls
                actions = (await schedule.describe()).info.recent_actions
                if actions:
                    assert isinstance(actions[0].action, ScheduleActionExecutionStartWorkflow)
                    started_id = actions[0].action.workflow_id
                    break
                await asyncio.sleep(0.1)
            assert started_id is not None, "the schedule never started its workflow"
            await client.get_workflow_handle(started_id).result()
        finally:
            await schedule.delete()
    runs = [
        s
        for s in cap.spans.get_finished_spans()
        if s.name == "RunWorkflow:SmokeWorkflow"
        and (s.attributes or {}).get("temporalWorkflowID") == started_id
    ]
    assert runs, "no workflow span for the schedule-started run"
    assert runs[0].parent is None  # no caller: the span starts its own trace
