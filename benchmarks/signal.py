"""Signal flow throughput and latency: registrations created in the platform emulator -> its
signed webhook -> receiver -> Temporal -> flow shard -> webhook destination.

    .venv/bin/python -m benchmarks.signal [--seconds 15] [--senders 64] [--shards 4]
    .venv/bin/python -m benchmarks.signal --capacity-only --workers 2 --receivers 2 --kill-worker-after 4

Processes, as in a deployment (all on this machine's cores): the Temporal dev server (SQLite
file, WAL, as `eventsync dev` runs it), a worker, a receiver, the platform emulator (sending one
signed webhook per event, `--senders` deliveries in flight: its format has no batches) and the
webhook destination; this process only creates registrations (Bulk Registration Upsert) and
reads the results. Latency = destination receipt - the registration's `dateCreated` (the
platform's clock, same machine). Phases: capacity (a backlog created at once), then open loop
at 200 events/s and at 80% of the measured capacity. The 1-minute load average is printed
before and after each phase: the machine is shared.

Scale-out mode (`--workers N --receivers M`, docs/operations.md): N worker processes and M
receivers (each fed by its own platform emulator, the load split evenly between them) against one
dev server; `--kill-worker-after S` SIGKILLs the first worker S seconds into the capacity phase,
and the phase reports `lost` (created but never delivered) and `redelivered` (delivered again
after the kill: at-least-once, deduplicated downstream by the idempotency key).
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
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from eventsync.definitions import Definitions
from sandbox import webhook
from sandbox.serving import free_port
from worker.converter import data_converter
from workflows import search_attributes as sa

SECRET = b"bench-secret"
BULK_MAX = 1000  # records per Bulk Registration Upsert (the emulator's documented limit)
ROOT = Path(__file__).resolve().parents[1]


def definitions(dest_url: str, shards: int, dest_batch: bool = False) -> Definitions:
    return Definitions.model_validate(
        {
            "connections": [{"name": "dest", "base_url": dest_url}],
            "flows": [
                {
                    "name": "bench",
                    "activate_for": {"subject": "status", "op": "is", "value": "Signal: Registered"},
                    "source": {
                        "account": "DEMO",
                        "events": ["registration.created", "registration.status_changed"],
                    },
                    "destination": {
                        "kind": "webhook",
                        "connection": "dest",
                        "path": "/hook",
                        "batch": dest_batch,
                        "mapping": {
                            "fields": {
                                "code": "$.record.registrationCode",
                                "email": "$.record.profile.email",
                                "status": "$.status",
                                "sent": "$.record.dateCreated",
                            }
                        },
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


def run_platform(port: int, receiver_url: str, senders: int, batch: int = 1) -> None:
    from sandbox.platform import create_app as platform_app

    hook = {
        "url": receiver_url + "/webhooks/platform",
        "secret": SECRET.decode(),
        "concurrency": senders,
        "batch_size": batch,  # opt-in: events per webhook body (the real format sends one)
    }
    seed = {"seed": 1, "events": 1, "registrations_per_event": 0, "sessions_per_event": 0}
    uvicorn.run(
        platform_app(seed=seed, webhook=hook),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


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


PLATFORM_API = "/certainExternal/service/v1"


class Load:
    """Creates registrations in the platform (Bulk Registration Upsert); the platform sends one
    signed webhook per registration. With several platforms (one per receiver), the batches go
    to each in turn."""

    def __init__(self, platform_urls: list[str]) -> None:
        self.urls = [f"{u}{PLATFORM_API}/BulkRegistration/DEMO/SUMMIT26" for u in platform_urls]
        self.calls = 0
        self.http = httpx.AsyncClient(auth=("sandbox", "sandbox"), timeout=60)
        self.n = 0
        self.errors = 0
        self.refused = 0
        self.run = uuid.uuid4().hex[:6]
        self.scheduled_until = 0.0

    async def create(self, count: int) -> None:
        # The platform takes at most BULK_MAX records per call (400 beyond): a lagging open loop
        # can owe more than that at once.
        for start in range(0, count, BULK_MAX):
            await self._create(min(BULK_MAX, count - start))

    async def _create(self, count: int) -> None:
        regs = [
            {
                "profile": {
                    "email": f"{self.run}-{self.n + i}@example.com",
                    "firstName": "Ada",
                    "lastName": f"Lovelace{self.n + i}",
                    "externalKey": f"{self.run}-{self.n + i}",
                },
                "registrationCode": f"{self.run}R{self.n + i}",
                "registrationStatusLabel": "New",
            }
            for i in range(count)
        ]
        url = self.urls[self.calls % len(self.urls)]
        self.calls += 1
        r = await self.http.post(url, json={"matchBy": "email", "registrations": regs})
        # Only registrations the platform made produce webhooks: count those, and the refusals
        # apart, so a refused call never shows up as events lost by the pipeline.
        body = r.json() if r.status_code == 200 else {}
        created = int(body.get("created", 0)) + int(body.get("updated", 0))
        self.n += count
        self.refused += count - created
        if created != count:
            self.errors += 1

    async def backlog(self, total: int) -> None:
        """Capacity: the whole backlog at once; the pipeline drains it as fast as it can."""
        for _ in range(total // 1000):
            await self.create(1000)

    async def open(self, seconds: float, rate: float) -> None:
        """Open loop: registrations are created on schedule (every 50 ms), answered or not."""
        start = time.monotonic()
        k = 0
        while (now := time.monotonic()) < start + seconds:
            due = int((now - start) * rate)
            if due > k:
                await self.create(due - k)
                k = due
            await asyncio.sleep(0.05)
        self.scheduled_until = time.monotonic()


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


REDELIVERED: dict[str, int] = {}


async def delivered_since(dest_url: str, run: str) -> list[tuple[float, float]]:
    """(sent, received) per event of this run: first successful delivery per idempotency key."""
    async with httpx.AsyncClient(timeout=120) as http:
        reqs = (await http.get(dest_url + "/_sandbox/requests")).json()["requests"]
    seen: set[str] = set()
    out = []
    again = 0
    for r in reqs:
        body = r.get("json") or {}
        # A batched destination call (`destination.batch`) carries an array of records and each
        # record's key in a header, in body order.
        many = isinstance(body, list)
        records = body if many else [body]
        keys = (r["headers"].get("x-eventsync-idempotency-keys") or "").split(",") if many else []
        for i, j in enumerate(records):
            key = keys[i] if i < len(keys) else r["headers"].get("idempotency-key", "")
            if r["status"] != 200 or not str(j.get("code", "")).startswith(run):
                continue
            if key in seen:
                again += 1
                continue
            seen.add(key)
            out.append((_epoch(j["sent"]), float(r["received_at"])))
    REDELIVERED[run] = again
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


async def phase(
    name: str, load: Load, dest_url: str, go: Any, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    load.run = uuid.uuid4().hex[:6]
    load.n = 0
    load.errors = 0
    load.refused = 0
    load_before = os.getloadavg()[0]
    t0 = time.time()
    m0 = time.monotonic()
    load.scheduled_until = 0.0
    await go
    sent_done = time.time()
    if load.scheduled_until:  # open loop: the offered rate is over the sending schedule
        sent_done = t0 + (load.scheduled_until - m0)
    got = await wait_drained(dest_url, load.run, load.n - load.refused, timeout=180)
    lat = [rcv - snt for snt, rcv in got]
    last = max((r for _, r in got), default=sent_done)
    res = {
        "phase": name,
        "events_sent": load.n,
        "create_calls_refused": load.errors,  # by the platform: no registrations, no webhooks
        "registrations_refused": load.refused,
        "delivered": len(got),
        "lost": load.n - load.refused - len(got),
        "redelivered": REDELIVERED.get(load.run, 0),
        "send_window_s": round(sent_done - t0, 2),
        "offered_events_per_s": round(load.n / (sent_done - t0), 1),
        "delivered_events_per_s": round(len(got) / (last - t0), 1) if got else 0.0,
        "latency_p50_s": round(pct(lat, 50), 3),
        "latency_p99_s": round(pct(lat, 99), 3),
        "latency_max_s": round(max(lat), 3) if lat else None,
        "latency_mean_s": round(statistics.fmean(lat), 3) if lat else None,
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        **(extra or {}),
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
        # As `eventsync dev` runs it (client/devserver.py): WAL, synchronous=normal.
        dev_server_extra_args=[
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
        ],
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
            defs_path.write_text(definitions(dest_url, args.shards, args.dest_batch).model_dump_json())
            workers: list[subprocess.Popen[str]] = []
            for _ in range(args.workers):
                p = _spawn("worker", "--address", address, ready_line=True)
                procs.append(p)
                workers.append(p)
                assert p.stdout is not None and p.stdout.readline().strip() == "READY"
            plats: list[str] = []
            for _ in range(args.receivers):
                port = free_port()
                procs.append(
                    _spawn("receiver", "--address", address, "--defs", str(defs_path), "--port", str(port))
                )
                rx = f"http://127.0.0.1:{port}"
                await _wait_up(rx + "/readyz")
                plat_port = free_port()
                procs.append(
                    _spawn(
                        "platform",
                        "--port",
                        str(plat_port),
                        "--receiver",
                        rx,
                        "--senders",
                        str(args.senders),
                        "--platform-batch",
                        str(args.platform_batch),
                    )  # fmt: skip
                )
                plats.append(f"http://127.0.0.1:{plat_port}")
                await _wait_up(plats[-1] + "/_sandbox/state")
            print(
                json.dumps(
                    {
                        "cores": os.cpu_count(),
                        "workers": args.workers,
                        "receivers": args.receivers,
                        "loadavg_1m_idle": round(os.getloadavg()[0], 2),
                    }
                )
            )
            load = Load(plats)
            await phase("warmup", load, dest_url, load.backlog(1000))
            killed: dict[str, Any] = {}
            killer: list[asyncio.Task[None]] = []

            async def capacity() -> None:
                if args.kill_worker_after is None:
                    await load.backlog(args.backlog)
                    return

                async def kill() -> None:
                    await asyncio.sleep(args.kill_worker_after)
                    workers[0].kill()  # SIGKILL: no clean shutdown, in-flight tasks die with it
                    killed["worker_killed_at_s"] = args.kill_worker_after
                    killed["delivered_before_kill"] = len(await delivered_since(dest_url, load.run))

                # The kill runs beside the drain, not the sending: the send window stays the sending's.
                killer.append(asyncio.create_task(kill()))
                await load.backlog(args.backlog)

            cap = await phase("capacity", load, dest_url, capacity(), killed)
            await asyncio.gather(*killer)
            if args.capacity_only:
                return
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
    ap.add_argument(
        "--role", choices=["driver", "worker", "receiver", "destination", "platform"], default="driver"
    )
    ap.add_argument("--address")
    ap.add_argument("--defs")
    ap.add_argument("--port", type=int)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--senders", type=int, default=64)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workers", type=int, default=1, help="worker processes")
    ap.add_argument("--receivers", type=int, default=1, help="receiver processes (one platform each)")
    ap.add_argument(
        "--kill-worker-after", type=float, default=None, help="SIGKILL the first worker this many s in"
    )
    ap.add_argument("--capacity-only", action="store_true", help="warmup and capacity phases only")
    ap.add_argument("--backlog", type=int, default=10000, help="registrations for the capacity phase")
    ap.add_argument("--receiver")
    ap.add_argument(
        "--platform-batch",
        type=int,
        default=1,
        help="opt-in: events per platform webhook body (sandbox knob)",
    )
    ap.add_argument("--dest-batch", action="store_true", help="opt-in: webhook destination takes JSON arrays")
    a = ap.parse_args()
    if a.kill_worker_after is not None and a.workers < 2:
        ap.error("--kill-worker-after needs --workers 2 or more (someone must take over)")
    if a.role == "worker":
        asyncio.run(run_worker(a.address))
    elif a.role == "destination":
        run_destination(a.port)
    elif a.role == "platform":
        run_platform(a.port, a.receiver, a.senders, a.platform_batch)
    elif a.role == "receiver":
        run_receiver(a.address, a.defs, a.port)
    else:
        asyncio.run(main(a))
        os._exit(0)  # temporalio/sdk-python#300: avoid a crash at interpreter exit
