"""The operator commands with no worker running: they read the event store, so they answer at
once with what is known (an event stored and waiting), never a hang or a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver

ROOT = Path(__file__).resolve().parents[3]


async def _cli(client: Client, *args: str) -> tuple[int, str]:
    env = {**os.environ, "TEMPORAL_ADDRESS": client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "client", *args,
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    assert proc.returncode is not None
    return proc.returncode, out


async def test_retry_queue_and_explain_answer_from_the_store_without_a_worker(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        async with httpx.AsyncClient(timeout=30) as http:
            # Accepted (2xx: committed to the event store), but nobody polls the task queue.
            with receiver(client, defs, task_queue) as rx:
                doc = event("N1", 0)
                assert (await post_event(http, rx.url, doc)).status_code == 200
    code, out = await _cli(client, "retry-queue", "list", "--flow", flow.name)
    assert code == 0 and "retry queue is empty" in out and "Traceback" not in out, out
    code, out = await _cli(client, "explain", "--flow", flow.name, "--record", "N1")
    assert code == 0, out
    assert doc["id"] in out and "stored, waiting for its turn" in out and "Traceback" not in out, out


async def test_a_mistyped_flow_or_record_is_an_error_with_the_nearest_names(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        async with httpx.AsyncClient(timeout=30) as http:
            with receiver(client, defs, task_queue) as rx:
                assert (await post_event(http, rx.url, event("T1", 0))).status_code == 200
    typo = flow.name[:-1] + ("x" if flow.name[-1] != "x" else "y")
    code, out = await _cli(client, "retry-queue", "retry", "--flow", typo, "--all")
    assert code == 2 and f"did you mean {flow.name!r}" in out and "Traceback" not in out, out
    code, out = await _cli(client, "retry-queue", "retry", "--flow", flow.name, "--record", "T1")
    assert code == 2 and "no parked record" in out, out
    code, out = await _cli(client, "explain", "--flow", typo, "--record", "T1")
    assert code == 2 and f"did you mean {flow.name!r}" in out, out


async def test_text_from_outside_is_printed_with_its_control_characters_escaped(
    client: Client, task_queue: str
) -> None:
    with destination() as dest:
        defs, flow = flow_def(dest.url, shards=1)
        async with httpx.AsyncClient(timeout=30) as http:
            with receiver(client, defs, task_queue) as rx:
                doc = event("C1", 0)
                # A webhook's id is the sender's text: a terminal escape and a forged line.
                doc["id"] = "evt-\x1b[2J\nFORGED line"
                assert (await post_event(http, rx.url, doc)).status_code == 200
    code, out = await _cli(client, "explain", "--flow", flow.name, "--record", "C1")
    assert code == 0, out
    assert "evt-\\x1b[2J\\nFORGED line" in out, out
    assert "\x1b" not in out and "\nFORGED" not in out, out
