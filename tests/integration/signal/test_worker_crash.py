"""A worker process SIGKILLed in the middle of a delivery batch loses nothing."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from tests.support.worker_proc import start_worker

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
async def test_worker_sigkilled_mid_batch_loses_nothing(client: Client, task_queue: str) -> None:
    with destination() as dest:
        async with httpx.AsyncClient() as http:
            # every call takes a while, so that batches are in flight when the worker dies
            await http.post(
                dest.url + "/_sandbox/faults", json={"path": "/hook", "action": "delay", "delay_s": 0.5}
            )
            defs, _ = flow_def(dest.url)
            first = start_worker(client, task_queue, defs)
            try:
                with receiver(client, defs, task_queue) as rx:
                    recs = [f"K{i}" for i in range(12)]
                    for i in range(3):
                        for rec in recs:
                            assert (await post_event(http, rx.url, event(rec, i))).status_code == 200
                    await wait_for(dest, lambda d: len(d.requests) >= 4)  # mid-batch
                    first.send_signal(signal.SIGKILL)
                    first.wait(timeout=10)
                    second = start_worker(client, task_queue, defs)
                    try:
                        d = await wait_for(
                            dest, lambda d: all(d.seqs(r) == [0, 1, 2] for r in recs), timeout=90
                        )
                    finally:
                        second.kill()
                        second.wait(timeout=10)
            finally:
                if first.poll() is None:
                    first.kill()
    for rec in recs:
        assert d.seqs(rec) == [0, 1, 2]
