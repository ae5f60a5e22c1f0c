"""Signal flow throughput and latency: signed webhook -> receiver -> Temporal -> webhook destination.

    .venv/bin/python -m benchmarks.signal [--seconds 15] [--senders 64] [--events-per-webhook 1]

Processes, as in a deployment (all on this machine's cores): the Temporal dev server (SQLite
file, WAL, as `eventsync dev` runs it), one worker process, one receiver process; this process
runs the webhook destination (sandbox) and the load generator, which stands in for the platform:
it creates registrations and sends each as a signed webhook (the platform emulator's own sender
is not used yet: see the report). Latency = destination receipt time - webhook send time, per
event (first successful delivery). Phases: capacity (closed loop, many senders), then open loop at
200 events/s and at 80% of the measured capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from eventsync.definitions import Definitions
from eventsync.signal.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from sandbox import webhook
from sandbox.serving import free_port
from worker.converter import data_converter
from workflows import search_attributes as sa

SECRET = b"bench-secret"
ROOT = Path(__file__).resolve().parents[1]


def definitions(dest_url: str, shards: int) -> Definitions:
    return Definitions.model_validate(
        {
            "connections": [{"name": "dest", "base_url": dest_url}],
            "flows": [
                {
                    "name": "bench",
                    "source": {
                        "account": "ACME",
                        "events": ["registration.created", "registration.status_changed"],
                    },
                    "destination": {
                        "kind": "webhook",
                        "connection": "dest",
                        "path": "/hook",
                        "mappings": [
                            {
                                "fields": {
                                    "code": "$.registrationCode",
                                    "email": "$.email",
                                    "status": "$.status",
                                    "sent": "$.sent_at",
                                }
                            }
                        ],
                    },
                    "shards": shards,
                    "idle_finish_s": 600,
                }
            ],
        }
    )


# ---- roles run in their own processes -------------------------------------------------------------


async def run_worker(address: str) -> None:
    from worker.main import build_worker

    client = await Client.connect(address, data_converter=data_converter())
    async with build_worker(client, "bench"):
        print("READY", flush=True)
        await asyncio.Event().wait()


def run_destination(port: int) -> None:
    uvicorn.run(webhook.create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def run_receiver(address: str, defs_path: str, port: int) -> None:
    from client.receiver import ReceiverSettings, create_app

    defs = Definitions.model_validate_json(Path(defs_path).read_text())

    async def connect() -> Client:
        return await Client.connect(address, data_converter=data_converter())

    app = create_app(
        ReceiverSettings(definitions=defs, secrets=[SECRET], connect=connect, task_queue="bench")
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---- the driver ----------------------------------------------------------------------------------


def _event(n: int, run: str) -> dict[str, Any]:
    return {
        "id": f"{run}-{n}",
        "type": "registration.created",
        "account": "ACME",
        "event_code": "BENCH",
        "data": {
            "registration": {
                "registrationCode": f"{run}-R{n}",
                "email": f"person{n}@example.com",
                "status": "Registered",
                "sent_at": time.time(),
                "profile": {"firstName": "Ada", "lastName": f"Lovelace{n}", "company": "Example Ltd"},
            }
        },
    }


class Load:
    def __init__(self, url: str, per_webhook: int) -> None:
        self.url = url + "/webhooks/platform"
        self.per = per_webhook
        self.http = httpx.AsyncClient(limits=httpx.Limits(max_connections=256), timeout=60)
        self.n = 0
        self.errors = 0
        self.run = uuid.uuid4().hex[:6]
        self.scheduled_until = 0.0

    async def send_one(self) -> None:
        evs = [_event(self.n + i, self.run) for i in range(self.per)]
        self.n += self.per
        doc: Any = evs[0] if self.per == 1 else {"events": evs}
        body = json.dumps(doc).encode()
        ts = int(time.time())
        r = await self.http.post(
            self.url,
            content=body,
            headers={
                TIMESTAMP_HEADER: str(ts),
                SIGNATURE_HEADER: sign(SECRET, ts, body),
                "Content-Type": "application/json",
            },
        )
        if r.status_code != 200:
            self.errors += 1

    async def closed(self, seconds: float, senders: int) -> None:
        stop = time.monotonic() + seconds

        async def loop() -> None:
            while time.monotonic() < stop:
                await self.send_one()

        await asyncio.gather(*(loop() for _ in range(senders)))

    async def open(self, seconds: float, rate: float) -> None:
        """Open loop: webhooks leave on schedule whether or not earlier ones were answered."""
        start = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        k = 0
        while (now := time.monotonic()) < start + seconds:
            due = int((now - start) * rate / self.per)
            while k < due:
                t = asyncio.create_task(self.send_one())
                tasks.add(t)
                t.add_done_callback(tasks.discard)
                k += 1
            await asyncio.sleep(0.005)
        self.scheduled_until = time.monotonic()
        if tasks:
            await asyncio.gather(*tasks)


async def delivered_since(dest_url: str, run: str) -> list[tuple[float, float]]:
    """(sent, received) per event of this run: first successful delivery per idempotency key."""
    async with httpx.AsyncClient(timeout=120) as http:
        reqs = (await http.get(dest_url + "/_sandbox/requests")).json()["requests"]
    seen: set[str] = set()
    out = []
    for r in reqs:
        j = r.get("json") or {}
        key = r["headers"].get("idempotency-key", "")
        if r["status"] != 200 or key in seen or not str(j.get("code", "")).startswith(run):
            continue
        seen.add(key)
        out.append((float(j["sent"]), float(r["received_at"])))
    return out


async def wait_drained(dest_url: str, run: str, expected: int, timeout: float) -> list[tuple[float, float]]:
    deadline = time.monotonic() + timeout
    while True:
        got = await delivered_since(dest_url, run)
        if len(got) >= expected or time.monotonic() > deadline:
            return got
        await asyncio.sleep(1.0)


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else float("nan")


async def phase(name: str, load: Load, dest_url: str, go: Any) -> dict[str, Any]:
    load.run = uuid.uuid4().hex[:6]
    load.n = 0
    load.errors = 0
    t0 = time.time()
    m0 = time.monotonic()
    load.scheduled_until = 0.0
    await go
    sent_done = time.time()
    if load.scheduled_until:  # open loop: the offered rate is over the sending schedule
        sent_done = t0 + (load.scheduled_until - m0)
    got = await wait_drained(dest_url, load.run, load.n, timeout=120)
    lat = [rcv - snt for snt, rcv in got]
    last = max((r for _, r in got), default=sent_done)
    res = {
        "phase": name,
        "events_sent": load.n,
        "non_2xx_answers": load.errors,
        "delivered": len(got),
        "send_window_s": round(sent_done - t0, 2),
        "offered_events_per_s": round(load.n / (sent_done - t0), 1),
        "delivered_events_per_s": round(len(got) / (last - t0), 1) if got else 0.0,
        "latency_p50_s": round(pct(lat, 50), 3),
        "latency_p99_s": round(pct(lat, 99), 3),
        "latency_max_s": round(max(lat), 3) if lat else None,
        "latency_mean_s": round(statistics.fmean(lat), 3) if lat else None,
    }
    print(json.dumps(res), flush=True)
    return res


def _spawn(role: str, *args: str, ready_line: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.signal", "--role", role, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE if ready_line else None,
        text=True,
    )


async def _wait_up(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def main(args: argparse.Namespace) -> None:
    state = Path(tempfile.mkdtemp(prefix="eventsync-bench-"))
    temporal = (
        os.environ.get("TEMPORAL_CLI_PATH")
        or shutil.which("temporal")
        or str(Path(sys.executable).parent / "temporal")
    )
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal,
        dev_server_database_filename=str(state / "temporal.db"),
        data_converter=data_converter(),
        search_attributes=sa.ALL,
        ui=False,
        dev_server_log_level="error",
        dev_server_extra_args=["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=off"],
    )
    address = env.client.service_client.config.target_host
    procs: list[subprocess.Popen[str]] = []
    try:
        # The destination gets its own process: sharing the load generator's GIL would make the
        # harness, not the engine, the bottleneck.
        dest_port = free_port()
        procs.append(_spawn("destination", "--port", str(dest_port)))
        dest_url = f"http://127.0.0.1:{dest_port}"
        await _wait_up(dest_url + "/_sandbox/state")
        if True:
            defs_path = state / "defs.json"
            defs_path.write_text(definitions(dest_url, args.shards).model_dump_json())
            for _ in range(args.workers):
                p = _spawn("worker", "--address", address, ready_line=True)
                procs.append(p)
                assert p.stdout is not None and p.stdout.readline().strip() == "READY"
            port = free_port()
            procs.append(
                _spawn("receiver", "--address", address, "--defs", str(defs_path), "--port", str(port))
            )
            rx = f"http://127.0.0.1:{port}"
            await _wait_up(rx + "/readyz")
            load = Load(rx, args.events_per_webhook)
            await phase("warmup", load, dest_url, load.closed(3, 16))
            cap = await phase("capacity", load, dest_url, load.closed(args.seconds, args.senders))
            await phase("open-200", load, dest_url, load.open(args.seconds, 200))
            rate = 0.8 * cap["delivered_events_per_s"]
            await phase(f"open-80pct-{rate:.0f}", load, dest_url, load.open(args.seconds, rate))
    finally:
        for p in procs:
            p.kill()
            p.wait()
        await env.shutdown()
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--role", choices=["driver", "worker", "receiver", "destination"], default="driver")
    ap.add_argument("--address")
    ap.add_argument("--defs")
    ap.add_argument("--port", type=int)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--senders", type=int, default=64)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--events-per-webhook", type=int, default=1)
    a = ap.parse_args()
    if a.role == "worker":
        asyncio.run(run_worker(a.address))
    elif a.role == "destination":
        run_destination(a.port)
    elif a.role == "receiver":
        run_receiver(a.address, a.defs, a.port)
    else:
        asyncio.run(main(a))
        os._exit(0)  # temporalio/sdk-python#300: avoid a crash at interpreter exit
