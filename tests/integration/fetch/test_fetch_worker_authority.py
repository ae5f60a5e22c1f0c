"""The worker is the authority for a fetch's definition and connections (issue 13, items 1 and 7).

An attacker with only a Temporal client starts `FetchWorkflow` with an input of its own making:
the old input shape, a definition whose source connection is the attacker's loopback listener and
whose bearer token is a reference to a worker secret. The worker must resolve the fetch by name
from its own definitions: the listener receives nothing, and the secret goes only where the
worker's own connection says. And a next URL that echoes a query API key is recorded (history,
`progress`, `fetch status`) without it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from client import fetch_control as fc
from eventsync.fetch.models import FetchRunResult
from sandbox import webhook
from sandbox.serving import Served, served
from tests.integration.fetch.helpers import (
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    eventually,
    progress,
    run_once,
    source_records,
    target_records,
)
from tests.support.history import history_text
from workflows.fetch import FetchWorkflow

pytestmark = pytest.mark.temporal

HISTORIES = Path(__file__).resolve().parents[2] / "histories"


@pytest.fixture
def attacker() -> Iterator[Served]:
    with served(webhook.create_app()) as s:
        yield s


async def _received(listener: Served) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = (await admin(listener.url, "GET", "/_sandbox/requests"))["requests"]
    return got


def _secret() -> tuple[str, str]:
    var = f"FETCH_TEST_AUTHORITY_TOKEN_{uuid.uuid4().hex[:8]}"
    value = f"s3cret-{uuid.uuid4().hex}"
    os.environ[var] = value
    return var, value


async def test_a_hostile_input_cannot_send_a_worker_secret_elsewhere(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, attacker: Served
) -> None:
    var, value = _secret()
    await admin(source.url, "PUT", "/_sandbox/auth", {"kind": "bearer", "token": value})
    defs = definitions(source.url, sink.url, source_auth={"kind": "bearer", "token": f"${{env:{var}}}"})
    name = await apply(client, defs, task_queue)

    # The attacker's input: the worker's fetch name, but its own "src" pointing at the listener,
    # with the worker's secret as the bearer token (the input shape before worker-side definitions).
    hostile_def = defs.fetches[0].model_dump(mode="json")
    hostile_def["target"] = {"kind": "http", "connection": "src", "path": "/ingest"}
    hostile = {
        "definition": hostile_def,
        "connections": [
            {"name": "src", "base_url": attacker.url, "auth": {"kind": "bearer", "token": f"${{env:{var}}}"}}
        ],
    }
    result = await client.execute_workflow(
        "FetchWorkflow",
        hostile,
        id=f"attack-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=FetchRunResult,
    )
    # The worker ran its own definition of that fetch: from its source into its sink.
    assert result.status == "done" and result.counts.applied == 22
    assert await _received(attacker) == []
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))

    # A name the worker does not define parks the run with a clear reason, and reaches nobody.
    handle = await client.start_workflow(
        "FetchWorkflow",
        {"name": "no-such-fetch", "connections": hostile["connections"]},
        id=f"attack-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=FetchRunResult,
    )

    async def parked() -> Any:
        p = await handle.query(FetchWorkflow.progress)
        return p if p.status == "parked" else None

    p = await eventually(parked)
    assert p is not None and "no fetch named 'no-such-fetch'" in (p.last_error or ""), p
    await handle.cancel()
    assert (await handle.result()).status == "cancelled"
    assert await _received(attacker) == []
    assert name  # the legitimate fetch is untouched


async def test_a_pinned_hash_that_differs_parks_and_resume_takes_the_current_definition(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    defs = definitions(source.url, sink.url)
    name = await apply(client, defs, task_queue)
    handle = await client.start_workflow(
        "FetchWorkflow",
        {"name": name, "definition_hash": "0123456789abcdef"},
        id=f"pinned-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
        result_type=FetchRunResult,
    )

    async def parked() -> Any:
        p = await handle.query(FetchWorkflow.progress)
        return p if p.status == "parked" else None

    p = await eventually(parked)
    assert p is not None and "changed since this run started (pinned 0123456789abcdef" in (p.last_error or "")
    assert await target_records(sink.url) == {}  # nothing ran on a definition it did not pin
    await handle.signal(FetchWorkflow.resume)
    result = await handle.result()
    assert result.status == "done" and result.counts.applied == 22
    assert result.definition_hash not in (None, "0123456789abcdef")
    assert [c.previous for c in result.definition_changes] == ["0123456789abcdef"]
    if os.environ.get("EVENTSYNC_RECORD_HISTORIES"):
        # The by-name path (patch marker, definition activity, park, resume, pipelined group,
        # duration local activity) as a replay fixture.
        text = (await handle.fetch_history()).to_json()
        (HISTORIES / "FetchWorkflow-by-name-parked-resumed.json").write_text(text)


async def test_a_next_url_echoing_the_api_key_is_recorded_without_it(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    var, value = _secret()
    await admin(source.url, "PUT", "/_sandbox/auth", {"kind": "api_key", "api_key": value, "name": "key", "location": "query"})  # fmt: skip
    defs = definitions(
        source.url,
        sink.url,
        style="next_url",
        source_auth={"kind": "api_key", "name": "key", "location": "query", "key": f"${{env:{var}}}"},
    )
    name = await apply(client, defs, task_queue)
    # Slow pages, so that the run is seen mid-way with a next URL as its position.
    await admin(source.url, "POST", "/_sandbox/faults", {"path": "/api/", "action": "delay", "delay_s": 0.3})
    handle = await fc.run_now(client, name)

    async def mid_way() -> Any:
        p = await progress(client, name)
        return p if p is not None and p.position.url else None

    p = await eventually(mid_way, attempts=200)
    assert p is not None and "after=" in p.position.url, p
    assert value not in p.position.url and "key=" not in p.position.url
    typed = client.get_workflow_handle(handle.id, result_type=FetchRunResult)
    result = await typed.result()
    assert result.status == "done" and result.counts.applied == 22  # the key went on every request
    assert value not in await history_text(typed)
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
    await run_once(client, name)
