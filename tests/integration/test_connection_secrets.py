"""Secrets stay out of workflow history and logs; a missing secret is a plain, non-retryable
error naming the connection and the variable."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError

from eventsync.definitions import Definitions
from eventsync.definitions.connections import Connection
from sandbox.serving import served
from tests.support import authserver
from tests.support.history import history_text
from worker.main import build_worker
from workflows.connection_check import ConnectionCheckWorkflow


@pytest.fixture
def server() -> Iterator[tuple[str, authserver.AuthState]]:
    state = authserver.AuthState()
    with served(authserver.create_app(state)) as s:
        yield s.url, state


def connection(url: str, secret_var: str) -> Connection:
    return Connection.model_validate(
        {
            "name": "crm",
            "base_url": url,
            "test_path": "/data",
            "auth": {
                "kind": "oauth2_client_credentials",
                "token_url": f"{url}/oauth/token",
                "client_id": authserver.CLIENT_ID,
                "client_secret": f"${{env:{secret_var}}}",
            },
        }
    )


async def test_no_secret_in_history_or_logs(
    client: Client,
    task_queue: str,
    server: tuple[str, authserver.AuthState],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, state = server
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("IT_CLIENT_SECRET", authserver.CLIENT_SECRET)
    defs = Definitions(connections=[connection(url, "IT_CLIENT_SECRET")])
    async with build_worker(client, task_queue, definitions=defs):
        handle = await client.start_workflow(
            ConnectionCheckWorkflow.run,
            "crm",  # a name: the worker resolves the connection from its own definitions
            id=f"cc-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        result = await handle.result()
    assert result.ok, result.message
    assert state.token_requests == 1  # the activity really authenticated
    history = await history_text(handle)
    assert "${env:IT_CLIENT_SECRET}" not in history  # only the name travels…
    assert authserver.CLIENT_SECRET not in history  # …never the value
    assert "tok-1" not in history  # nor the access token
    assert authserver.CLIENT_SECRET not in caplog.text and "tok-1" not in caplog.text


async def test_missing_secret_is_non_retryable_and_names_the_variable(
    client: Client, task_queue: str, server: tuple[str, authserver.AuthState]
) -> None:
    url, _ = server
    defs = Definitions(connections=[connection(url, "IT_UNSET_SECRET_VAR")])
    async with build_worker(client, task_queue, definitions=defs):
        result = await client.execute_workflow(
            ConnectionCheckWorkflow.run, "crm", id=f"cc-{uuid.uuid4()}", task_queue=task_queue
        )
    # Save & Test reports it plainly instead of failing.
    assert not result.ok
    assert (
        result.message
        == "connection 'crm': auth.client_secret refers to ${env:IT_UNSET_SECRET_VAR}, but the environment variable IT_UNSET_SECRET_VAR is not set"
    )


async def test_library_errors_become_non_retryable_application_errors() -> None:
    from activities.errors import MISSING_SECRET, to_application_error
    from eventsync.http.errors import PermanentHTTPError, RetryableHTTPError
    from eventsync.secrets import MissingSecretError

    missing = to_application_error(
        MissingSecretError("crm", "auth.token", "${env:X}", "but the environment variable X is not set")
    )
    assert missing.non_retryable and missing.type == MISSING_SECRET
    assert to_application_error(PermanentHTTPError("no", connection="c", status=400)).non_retryable
    later = to_application_error(RetryableHTTPError("later", connection="c", status=429, retry_after=12))
    assert (
        not later.non_retryable
        and later.next_retry_delay is not None
        and later.next_retry_delay.total_seconds() == 12
    )
    _ = (ActivityError, ApplicationError, WorkflowFailureError)
