"""Faults at random moments during a 10,000-event run, every part a real process:
worker SIGKILL x20, receiver SIGKILL x5, and a Temporal dev-server restart. Nothing acknowledged
is lost, each record's events arrive in order, and an event is repeated only under its own
Idempotency-Key (at-least-once, recognisably)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from client.devserver import DevServer
from sandbox.serving import free_port
from tests.integration.signal.harness import SECRET, destination, event, signed_headers

ROOT = Path(__file__).resolve().parents[3]
RECORDS = 500
EVENTS_PER_RECORD = 20  # 10,000 events
WORKER_KILLS = 20
RECEIVER_KILLS = 5


def _defs(path: Path, dest_url: str) -> None:
    doc = {
        "connections": [{"name": "dest", "base_url": dest_url}],
        "flows": [
            {
                "name": "faults",
                "source": {"account": "ACME", "events": ["registration.status_changed"]},
                "destination": {
                    "kind": "webhook",
                    "connection": "dest",
                    "path": "/hook",
                    "batch": True,
                    "mapping": {"fields": {"code": "$.record.registrationCode", "seq": "$.record.seq"}},
                },
                "batching": {"batch_size": 100},
                "skip_unchanged": False,
                "shards": 4,
            }
        ],
    }
    path.write_text(json.dumps(doc))


class Proc:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.p: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log, "ab")  # noqa: SIM115 - owned by the process
        self.p = subprocess.Popen([sys.executable, "-m", "client", *self.args], cwd=ROOT, env=self.env,
                                  stdout=out, stderr=subprocess.STDOUT)  # fmt: skip

    def kill(self) -> None:
        if self.p is not None and self.p.poll() is None:
            self.p.send_signal(signal.SIGKILL)
            self.p.wait(timeout=10)

    def stop(self) -> None:
        if self.p is not None and self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()


async def _post_until_stored(http: httpx.AsyncClient, url: str, doc: dict[str, Any]) -> None:
    """As the platform does: retry until the receiver answers 2xx."""
    body = json.dumps(doc).encode()
    for _ in range(600):
        try:
            r = await http.post(url, content=body, headers=signed_headers(body))
            if r.status_code == 200:
                return
            assert r.status_code in (409, 503), r.text  # 409: this receiver took it already
            if r.status_code == 409:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{doc['id']} never stored")


@pytest.mark.slow
async def test_kills_and_a_server_restart_lose_nothing_and_keep_order(tmp_path: Path) -> None:
    rng = random.Random(12)
    server = DevServer(state_dir=tmp_path / "temporal", port=free_port(), ui_port=None)
    server.start()
    workers: list[Proc] = []
    receiver: Proc | None = None
    try:
        with destination() as dest:
            defs = tmp_path / "defs.json"
            _defs(defs, dest.url)
            port = free_port()
            env = {
                **os.environ,
                "TEMPORAL_ADDRESS": server.address,
                "EVENTSYNC_STORE": "sqlite:///" + str(tmp_path / "events.sqlite3"),
                "EVENTSYNC_WEBHOOK_SECRETS": SECRET.decode(),
                "PYTHONWARNINGS": "ignore",
            }
            workers = [Proc(["worker", "-d", str(defs)], env, tmp_path / f"worker{i}.log") for i in range(2)]
            for w in workers:
                w.start()
            receiver = Proc(["serve", "-d", str(defs), "--port", str(port)], env, tmp_path / "receiver.log")
            receiver.start()
            url = f"http://127.0.0.1:{port}/webhooks/platform"
            async with httpx.AsyncClient(timeout=10) as http:
                for _ in range(100):
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.2)

                async def send_record(n: int) -> None:
                    for i in range(EVENTS_PER_RECORD):
                        await _post_until_stored(http, url, event(f"F{n:04d}", i))

                sem = asyncio.Semaphore(40)

                async def one(n: int) -> None:
                    async with sem:
                        await send_record(n)

                sending = asyncio.gather(*(one(n) for n in range(RECORDS)))

                async def chaos() -> None:
                    kills = [("worker", i) for i in range(WORKER_KILLS)] + [("receiver", i) for i in range(RECEIVER_KILLS)]
                    kills.insert(len(kills) // 2, ("server", 0))
                    rng.shuffle(kills)
                    for what, _ in kills:
                        await asyncio.sleep(rng.uniform(0.5, 2.0))
                        if what == "worker":
                            w = rng.choice(workers)
                            w.kill()
                            w.start()
                        elif what == "receiver":
                            assert receiver is not None
                            receiver.kill()
                            receiver.start()
                        else:
                            server.stop()
                            server.start()

                await chaos()
                await asyncio.wait_for(sending, 600)
                deadline = time.monotonic() + 600
                while True:
                    got = (await http.get(dest.url + "/_sandbox/requests")).json()["requests"]
                    seen: dict[str, list[int]] = {}
                    keys: dict[tuple[str, int], set[str]] = {}
                    for req in got:
                        if req["status"] != 200 or not isinstance(req["json"], list):
                            continue
                        batch_keys = req["headers"]["x-eventsync-idempotency-keys"].split(",")
                        for body, key in zip(req["json"], batch_keys, strict=True):
                            k = (body["code"], body["seq"])
                            if k not in keys:
                                seen.setdefault(body["code"], []).append(body["seq"])
                            keys.setdefault(k, set()).add(key)
                    if sum(len(v) for v in seen.values()) >= RECORDS * EVENTS_PER_RECORD:
                        break
                    assert time.monotonic() < deadline, f"{sum(len(v) for v in seen.values())} delivered"
                    await asyncio.sleep(1)
    finally:
        for w in workers:
            w.stop()
        if receiver is not None:
            receiver.stop()
        server.stop()
    assert len(seen) == RECORDS
    for code, seqs in seen.items():
        assert seqs == list(range(EVENTS_PER_RECORD)), code  # in order, nothing missing
    assert all(len(k) == 1 for k in keys.values())  # a repeat only under the same key
