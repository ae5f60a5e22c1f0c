"""A vendor's words reach the operator and stay out of logs (docs/security.md): a failure's
message is its headline (connection, method, path, status), and the vendor's body, which often
quotes the record, travels in the failure's encrypted details. Real dev server, worker in this
process (so its log records are the ones captured here), a sink that rejects a whole page."""

from __future__ import annotations

import json
import logging

import pytest
from temporalio.client import Client

from client import fetch_control as fc
from eventsync.fetch.models import FetchRunResult
from sandbox.serving import Served
from tests.integration.fetch.helpers import admin, apply, definitions, eventually, progress, run_once
from tests.support.history import raw_history_text

pytestmark = pytest.mark.temporal

EMAIL = "grace.hopper@example.com"


async def test_a_vendor_body_quoting_a_record_is_in_the_park_reason_and_in_no_log_line(
    client: Client,
    task_queue: str,
    worker: None,
    source: Served,
    sink: Served,
    caplog: pytest.LogCaptureFixture,
) -> None:
    name = await apply(client, definitions(source.url, sink.url), task_queue)
    assert (await run_once(client, name)).status == "done"
    await admin(source.url, "POST", "/_sandbox/records", [{}, {}])
    body = {"error": f"contact {EMAIL} is already registered to another account"}
    await admin(sink.url, "PUT", "/_sandbox/config", {"answer": {"status": 422, "body": body}})
    with caplog.at_level(logging.DEBUG):
        handle = await fc.run_now(client, name)

        async def parked() -> bool:
            p = await progress(client, name)
            return p is not None and p.status == "parked"

        assert await eventually(parked), "the run parks on the sink's 422"
    p = await progress(client, name)
    # The operator (through the codec: queries are payloads) reads what the vendor said...
    assert p.last_error and "answered HTTP 422" in p.last_error and EMAIL in p.last_error
    # ...the worker's log lines, the SDK's "Completing activity as failed" included, do not.
    lines = [r for r in caplog.records if "422" in r.getMessage() or r.exc_info]
    assert lines, "the failure was logged"
    assert EMAIL not in caplog.text
    # In history the failure's message is the headline and the body is in its details, both
    # encrypted (DefaultFailureConverterWithEncodedAttributes).
    assert EMAIL not in await raw_history_text(handle)
    events = json.loads((await handle.fetch_history()).to_json())["events"]
    failed = [
        e["activityTaskFailedEventAttributes"]["failure"]
        for e in events
        if "activityTaskFailedEventAttributes" in e
    ]
    assert failed and all("Encoded failure" in json.dumps(f) for f in failed)
    await admin(sink.url, "PUT", "/_sandbox/config", {})
    await fc.resume(client, name)
    result = await client.get_workflow_handle(handle.id, result_type=FetchRunResult).result()
    assert result.status == "done"
