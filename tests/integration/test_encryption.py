"""Registrant data is encrypted in Temporal's history; the codec server (with its bearer token)
opens it for the Web UI and the temporal CLI."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import uuid
from collections.abc import Iterator

import httpx
import pytest
from temporalio.client import Client

from activities.smoke import PingInput
from client.codec_server import create_app
from sandbox.serving import Served, served
from tests.conftest import _binary
from tests.support.history import history_text, payload_texts, raw_history_text
from worker.codec import ENCODING, codec_from_env
from worker.main import build_worker
from workflows.smoke import SmokeWorkflow

EMAIL = "registrant.ada@example.com"
TOKEN = "codec-test-token"
UI_ORIGIN = "http://localhost:8233"


@pytest.fixture
def codec_server() -> Iterator[Served]:
    codec = codec_from_env()
    assert codec is not None, "the test suite sets EVENTSYNC_CODEC_KEYS (tests/conftest.py)"
    with served(create_app(codec, TOKEN, [UI_ORIGIN])) as s:
        yield s


async def test_history_holds_no_email_in_clear_and_codec_server_reads_it(
    client: Client, task_queue: str, codec_server: Served
) -> None:
    wf_id = f"enc-{uuid.uuid4()}"
    async with build_worker(client, task_queue):
        result = await client.execute_workflow(
            SmokeWorkflow.run, PingInput(message=EMAIL), id=wf_id, task_queue=task_queue
        )
    assert result.echo == EMAIL  # the workflow really saw the plaintext
    handle = client.get_workflow_handle(wf_id)

    raw = await raw_history_text(handle)
    assert EMAIL not in raw and "registrant.ada" not in raw
    assert base64.b64encode(ENCODING).decode() in raw  # payloads are marked encrypted
    assert EMAIL in await history_text(handle)  # the key opens them

    # The Web UI path: take the encrypted input payload from the raw history, POST it.
    history = json.loads((await handle.fetch_history()).to_json())
    started = history["events"][0]["workflowExecutionStartedEventAttributes"]
    body = {"payloads": started["input"]["payloads"]}
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        denied = await http.post("/decode", json=body)
        assert denied.status_code == 401
        wrong = await http.post("/decode", json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = await http.post("/decode", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200, ok.text
        [decoded] = ok.json()["payloads"]
        assert json.loads(base64.b64decode(decoded["data"]))["message"] == EMAIL
        # /encode gives back an encrypted payload that /decode opens again.
        enc = await http.post("/encode", json=ok.json(), headers={"Authorization": f"Bearer {TOKEN}"})
        assert base64.b64decode(enc.json()["payloads"][0]["metadata"]["encoding"]) == ENCODING
        # The Web UI's browser preflight is answered for its origin only.
        preflight = await http.options(
            "/decode",
            headers={
                "Origin": UI_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
        other = await http.options(
            "/decode", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in other.headers

    # The temporal CLI path, exactly as docs/operations.md shows it.
    address = client.service_client.config.target_host
    cmd = [_binary("temporal", "TEMPORAL_CLI_PATH"), "workflow", "show", "--address", address]
    cmd += ["--workflow-id", wf_id, "--output", "json"]
    without = await _run(cmd)
    assert EMAIL not in without.stdout
    shown = await _run([*cmd, "--codec-endpoint", codec_server.url, "--codec-auth", f"Bearer {TOKEN}"])
    assert EMAIL not in shown.stdout  # still base64 in JSON output…
    assert EMAIL in payload_texts(json.loads(shown.stdout))  # …but now plain, not encrypted
    assert EMAIL not in payload_texts(json.loads(without.stdout))


async def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run, cmd, capture_output=True, text=True, timeout=60, check=True
    )
