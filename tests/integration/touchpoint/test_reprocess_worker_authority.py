"""The worker is the authority for a Touchpoint reprocess's definition and connections (issue 13
item 1), on the real dev server with a loopback listener standing in for the attacker.

Before names, `TouchpointReprocess` took a whole touchpoint definition and its two connections
as input, and the worker resolved whatever `${env:…}` they named and sent it to whatever
`base_url` they named: any Temporal client could have a worker's platform password and
Touchpoint token sent to its own server. Now the input names the definition; the worker
resolves it, and both connections, from its own definitions. An input of the old shape is
reduced to its names: what it carries is never resolved.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from sandbox import webhook
from sandbox.serving import Served, served
from tests.integration.touchpoint.harness import ACCOUNT, World, eventually, world
from workflows.touchpoint import ReprocessProgress, TouchpointReprocessWorkflow

pytestmark = pytest.mark.temporal

HISTORIES = Path(__file__).resolve().parents[2] / "histories"


@pytest.fixture
def attacker() -> Iterator[tuple[Served, Any]]:
    app = webhook.create_app()
    with served(app) as s:
        yield s, app.state.sandbox


def _secret() -> tuple[str, str]:
    # TP_TEST_* is on the suite's allow-list (tests/conftest.py): any other name would park the
    # legitimate run with MissingSecret instead of proving anything.
    var = f"TP_TEST_AUTHORITY_TOKEN_{uuid.uuid4().hex[:8].upper()}"
    value = f"tp-s3cret-{uuid.uuid4().hex}"
    os.environ[var] = value
    return var, value


def _old_shape(w: World, attacker_url: str, token_var: str) -> dict[str, Any]:
    """The input as it was before names: the worker's own touchpoint block (its name is in
    every run's search attributes), with both connections pointing at the attacker and
    referencing the worker's secrets."""
    tp = w.defs.touchpoint
    assert tp is not None
    return {
        "definition": tp.model_dump(mode="json"),
        "platform": {
            "name": "platform",
            "vendor": "platform",
            "base_url": attacker_url,
            "auth": {"kind": "basic", "username": "sandbox", "password": "${env:TP_TEST_PLATFORM_PASSWORD}"},
        },
        "touchpoint": {
            "name": "touchpoint",
            "vendor": "touchpoint",
            "base_url": attacker_url,
            "auth": {"kind": "bearer", "token": f"${{env:{token_var}}}"},
        },
        "event": str(w.event_id),
        "kinds": ["registrants"],
    }


async def _parked(handle: WorkflowHandle[Any, Any]) -> ReprocessProgress:
    found: list[ReprocessProgress] = []

    async def check() -> bool:
        p: ReprocessProgress = await handle.query(TouchpointReprocessWorkflow.progress)
        found[:] = [p]
        return p.status == "parked"

    await eventually(check, f"{handle.id} parks")
    return found[0]


async def test_a_hostile_old_shape_input_cannot_send_a_worker_secret_elsewhere(
    client: Client, task_queue: str, attacker: tuple[Served, Any]
) -> None:
    listener, recorded = attacker
    var, value = _secret()
    async with world(client, task_queue, webhooks=False, token_var=var) as w:
        codes = [await w.register(f"a{i}@ex.com") for i in range(3)]
        handle = await client.start_workflow(
            "TouchpointReprocess",
            _old_shape(w, listener.url, var),
            id=f"attack-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            result_type=ReprocessProgress,
        )
        done = asyncio.ensure_future(handle.result())

        async def settled() -> bool:
            return done.done() or bool(recorded.requests)

        # Whichever comes first: the run ends, or the attacker hears from the worker (before the
        # fix it did at once, and the run then retried the attacker's answer forever).
        await eventually(settled, "the run ends or the attacker is called")
        if recorded.requests:
            done.cancel()
            await handle.terminate("leaked")
            got = [(r["method"], r["path"], r["headers"].get("authorization")) for r in recorded.requests]
            raise AssertionError(f"the worker called the attacker's listener: {got[:3]}")
        result = await done
        # The worker ran its own definition, with its own connections: the secret went to the
        # Touchpoint the worker knows (which accepts only that token), and nowhere else.
        assert result.status == "done" and result.read == {"registrants": 3}, result
        assert sorted((await w.tp_event())["attendees"]) == sorted(codes)
        assert result.definition_hash is not None
    assert recorded.requests == []
    sent = repr(recorded.requests)
    assert value not in sent and base64.b64encode(b"sandbox:sandbox").decode() not in sent


async def test_a_name_or_account_the_worker_does_not_define_parks_and_reaches_nobody(
    client: Client, task_queue: str, attacker: tuple[Served, Any]
) -> None:
    listener, recorded = attacker
    var, _ = _secret()
    async with world(client, task_queue, webhooks=False, token_var=var) as w:
        await w.register("b@ex.com")
        hostile = _old_shape(w, listener.url, var)
        hostile["definition"]["name"] = "evil"  # the old shape's definition gives only its name
        cases = [
            (hostile, "no touchpoint definition named 'evil'"),
            (
                {"name": w.defs.touchpoint.name if w.defs.touchpoint else "", "account": "OTHER",
                 "event": str(w.event_id)},
                "is for platform account 'ACME', not 'OTHER'",
            ),
        ]  # fmt: skip
        for inp, reason in cases:
            handle = await client.start_workflow(
                "TouchpointReprocess", inp, id=f"attack-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
            p = await _parked(handle)
            assert reason in (p.parked_reason or ""), p
            await handle.terminate("test over")
        assert (await w.tp_event())["attendees"] == {}
    assert recorded.requests == []


async def test_a_pinned_hash_that_differs_parks_and_resume_takes_the_current_definition(
    client: Client, task_queue: str
) -> None:
    async with world(client, task_queue, webhooks=False) as w:
        code = await w.register("c@ex.com")
        tp = w.defs.touchpoint
        assert tp is not None
        handle = await client.start_workflow(
            TouchpointReprocessWorkflow.run,
            {"name": tp.name, "account": ACCOUNT, "event": str(w.event_id), "kinds": ["registrants"],
             "definition_hash": "0123456789abcdef"},
            id=f"pinned-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            result_type=ReprocessProgress,
        )  # fmt: skip
        p = await _parked(handle)
        assert "changed since this run started (pinned 0123456789abcdef" in (p.parked_reason or ""), p
        assert (await w.tp_event())["attendees"] == {}  # nothing ran on a definition it did not pin
        await handle.signal(TouchpointReprocessWorkflow.on_resume, {"by": "ops"})
        result = await handle.result()
        assert result.status == "done" and list((await w.tp_event())["attendees"]) == [code]
        assert result.definition_hash not in (None, "0123456789abcdef")
        assert result.definition_changes == [f"0123456789abcdef -> {result.definition_hash}"]
        if os.environ.get("EVENTSYNC_RECORD_HISTORIES"):
            # The by-name path (park on the pin, resume, adopt the worker's hash) as a replay fixture.
            text = (await handle.fetch_history()).to_json()
            (HISTORIES / "TouchpointReprocess-by-name-parked-resumed.json").write_text(text)
