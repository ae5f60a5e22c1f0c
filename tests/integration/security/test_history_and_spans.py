"""Issue 13 items 6 and 7, against a real dev server and a real listener: failure messages are
encrypted in history, and secret query parameters never reach a span."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.trace import SpanKind
from temporalio.client import Client, WorkflowFailureError

from eventsync import telemetry
from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from eventsync.http import ConnectionPool
from sandbox import webhook
from sandbox.serving import Served, served
from tests.support.history import history_text, raw_history_text
from tests.support.otel import captured
from worker.main import build_worker
from workflows.connection_check import ConnectionCheckWorkflow

EMAIL = "ada.lovelace@example.com"


async def test_failure_messages_are_encrypted_in_history(client: Client, task_queue: str) -> None:
    wid = f"cc-{uuid.uuid4()}"
    async with build_worker(client, task_queue, definitions=Definitions()):
        with pytest.raises(WorkflowFailureError) as err:
            # The failure message quotes the input, as vendor bodies quote the record.
            await client.execute_workflow(ConnectionCheckWorkflow.run, EMAIL, id=wid, task_queue=task_queue)
    assert EMAIL in str(err.value.cause.cause)  # a key holder still reads the message
    handle = client.get_workflow_handle(wid)
    raw = await raw_history_text(handle)
    assert "no connection named" not in raw
    failures = [
        json.dumps(attrs["failure"])
        for event in json.loads((await handle.fetch_history()).to_json())["events"]
        for key, attrs in event.items()
        if key.endswith("EventAttributes") and isinstance(attrs, dict) and "failure" in attrs
    ]
    assert len(failures) == 2  # the activity's and the workflow's
    for failure in failures:
        assert EMAIL not in failure and "Encoded failure" in failure
    assert EMAIL in await history_text(handle)


@pytest.fixture
def listener() -> Iterator[tuple[Served, Any]]:
    app = webhook.create_app()
    with served(app) as s:
        yield s, app.state.sandbox


@pytest.fixture
def instrumented() -> Iterator[None]:
    cap = captured()
    telemetry.instrument_httpx_clients(cap.installed.tracer_provider, cap.installed.meter_provider)
    yield
    telemetry.uninstrument_httpx_clients()


async def test_spans_never_record_secret_query_parameters(
    listener: tuple[Served, Any], instrumented: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, recorded = listener
    monkeypatch.setenv("EVENTSYNC_SECRET_QKEY", "query-key-123")
    conn = Connection.model_validate(
        {
            "name": "q",
            "base_url": server.url,
            "auth": {
                "kind": "api_key",
                "key": "${env:EVENTSYNC_SECRET_QKEY}",
                "name": "hapikey",
                "location": "query",
            },
        }
    )
    pool = ConnectionPool()
    try:
        c = pool.client(conn)
        await c.request("GET", "/ping?page=2")
        await c.request("GET", "/identity/oauth/token?client_id=abc&client_secret=marketo-secret-9")
    finally:
        await pool.aclose()
    assert "query-key-123" in str(recorded.requests[0])  # the key really went, as a query parameter
    spans = captured().spans.get_finished_spans()
    # Our client spans (the listener's own server spans record what it received, as it may).
    urls = [
        str(v)
        for s in spans
        if s.kind == SpanKind.CLIENT
        for k, v in (s.attributes or {}).items()
        if "url" in k
    ]
    assert urls, "the instrumentation recorded no URL"
    text = " ".join(urls)
    assert "query-key-123" not in text and "marketo-secret-9" not in text
    assert "page=2" in text and "client_id=abc" in text  # the rest stays for debugging
