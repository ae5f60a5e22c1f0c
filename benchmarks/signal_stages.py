"""Signal flow, stage by stage: where the CPU of one event goes (docs/architecture.md, Performance).

    .venv/bin/python -m benchmarks.signal_stages [--stage a,b,c,d,e] [--events 3000] [--shards 4]

Each stage runs its part alone, in its own processes, and reports events/s and the CPU seconds
per 1,000 events of every process involved (/proc/<pid>/stat), with the 1-minute load average
(the machine is shared, so events/s move with the load; CPU per event much less):

  a  platform emulator -> signed webhooks -> a raw asyncio sink (no framework): the sender alone
  b  receiver alone (signature, parse, router) fed by a raw keep-alive HTTP client; with the
     router's signal-with-start going to the dev server (no worker), and with it stubbed out
  c  signal-with-start of batched events straight into N shards on the dev server (no worker)
  d  FlowShard workflows + delivery activity with a null destination adapter (no HTTP out)
  e  the delivery path (decide, render, webhook adapter) into the sandbox webhook destination,
     in this process, no Temporal

`--batch-webhooks N` sends N events per webhook body (`{"events": [...]}`) in stages a/b and
`--dest-batch` makes the webhook destination take a JSON array per call in stage e (both opt-in
modes, docs/flows.md). The dev server is started as `eventsync dev` starts it (SQLite, WAL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from benchmarks.env import production_env
from benchmarks.signal import SECRET, definitions
from eventsync.definitions import Definitions
from eventsync.flows.signature import sign
from sandbox.serving import free_port

ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICK  # utime + stime


class CPU:
    """CPU seconds per named process over a window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.start = {n: cpu_s(p) for n, p in pids.items()}

    def used(self) -> dict[str, float]:
        return {n: cpu_s(p) - self.start[n] for n, p in self.pids.items()}


# ---- sample events: the platform's real webhook body shape -------------------------------------


def sample_event() -> dict[str, Any]:
    """One real `registration.created` webhook body of the platform emulator."""
    from sandbox.platform import create_app
    from sandbox.serving import served

    app = create_app(
        seed={"seed": 1, "events": 1, "registrations_per_event": 0, "sessions_per_event": 0},
        webhook={"url": "http://127.0.0.1:9/unused", "secret": "x"},
    )
    got: list[dict[str, Any]] = []
    app.state.dispatcher.enqueue = got.append
    with served(app) as s:
        r = httpx.post(
            f"{s.url}/certainExternal/service/v1/BulkRegistration/DEMO/SUMMIT26",
            auth=("sandbox", "sandbox"),
            json={
                "matchBy": "email",
                "registrations": [
                    {
                        "profile": {"email": "a@example.com", "firstName": "Ada", "lastName": "L"},
                        "registrationCode": "R0",
                        "registrationStatusLabel": "New",
                    }
                ],
            },
        )
        r.raise_for_status()
    return got[0]


def events_like(sample: dict[str, Any], n: int, run: str) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        ev = json.loads(json.dumps(sample))
        code = f"{run}R{i}"
        ev["id"] = str(uuid.uuid4())
        ev["recordKey"] = code
        ev["data"]["registrationCode"] = code
        ev["data"]["dateCreated"] = "2026-01-01T00:00:00.000Z"
        ev["data"].setdefault("profile", {})["email"] = f"{code}@example.com"
        out.append(ev)
    return out


# ---- a raw HTTP/1.1 keep-alive client and sink (cheap on both ends: the stage is measured) ------


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def raw_post_all(url: str, requests: list[tuple[bytes, dict[str, str]]], conns: int) -> dict[int, int]:
    """POST every (body, headers) over `conns` keep-alive connections; count the statuses."""
    u = httpx.URL(url)
    host, port, path = u.host, u.port or 80, u.raw_path.decode()
    todo = list(reversed(requests))
    statuses: dict[int, int] = {}

    async def conn() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while todo:
                body, headers = todo.pop()
                head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                head += f"Content-Length: {len(body)}\r\n"
                head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                writer.write(head.encode() + b"\r\n" + body)
                st = await _read_response(reader)
                statuses[st] = statuses.get(st, 0) + 1
        finally:
            writer.close()

    await asyncio.gather(*(conn() for _ in range(conns)))
    return statuses


async def run_sink(port: int) -> None:
    """Answers 200 to anything: the cheapest receiver there is (stage a measures the sender)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                if length:
                    await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}"
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=512)
    async with server:
        await server.serve_forever()


# ---- roles ---------------------------------------------------------------------------------------


def run_platform(port: int, url: str, senders: int, batch: int) -> None:
    from sandbox.platform import create_app

    hook = {"url": url, "secret": SECRET.decode(), "concurrency": senders, "batch_size": batch}
    seed = {"seed": 1, "events": 1, "registrations_per_event": 0, "sessions_per_event": 0}
    uvicorn.run(
        create_app(seed=seed, webhook=hook),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def run_receiver(address: str, defs_path: str, port: int, stub: bool) -> None:
    from temporalio.client import Client

    from client.receiver import ReceiverSettings, create_app
    from client.router import FlowRouter
    from worker.converter import data_converter

    if stub:

        async def _no_signal(self: FlowRouter, *_: Any) -> None:
            self.signals_sent += 1

        FlowRouter._signal = _no_signal  # type: ignore[method-assign]

    defs = Definitions.model_validate_json(Path(defs_path).read_text())

    async def connect() -> Client:
        return await Client.connect(address, data_converter=data_converter())

    app = create_app(
        ReceiverSettings(definitions=defs, secrets=[SECRET], connect=connect, task_queue="bench")
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def run_null_worker(address: str) -> None:
    """The real worker with the webhook adapter replaced by one that answers ok at once."""
    from temporalio.client import Client

    from eventsync.flows import destinations
    from worker.converter import data_converter
    from worker.main import build_worker

    class Null:
        kind = "webhook"
        limits = destinations.Limits(batch_size=100, max_concurrency=16, calls_per_second=None)

        async def deliver(self, flow: Any, conn: Any, items: list[Any]) -> list[Any]:
            return [destinations.ItemResult(i.event_id, "ok", 200, "") for i in items]

    destinations.ADAPTERS["webhook"] = Null()
    client = await Client.connect(address, data_converter=data_converter())
    async with build_worker(client, "bench"):
        print("READY", flush=True)
        await asyncio.Event().wait()


# ---- the driver ------------------------------------------------------------------------------


class Harness:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs: dict[str, subprocess.Popen[str]] = {}
        self.state = Path(tempfile.mkdtemp(prefix="eventsync-stages-"))
        self.server: Any = None

    def spawn(self, name: str, *argv: str, ready_line: bool = False) -> subprocess.Popen[str]:
        p = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.signal_stages", "--role", *argv],
            cwd=ROOT,
            stdout=subprocess.PIPE if ready_line else None,
            text=True,
        )
        self.procs[name] = p
        if ready_line:
            assert p.stdout is not None and p.stdout.readline().strip() == "READY"
        return p

    def dev_server(self) -> str:
        from client.devserver import DevServer

        if self.server is None:
            self.server = DevServer(
                self.state / "temporal", port=free_port(), ui_port=None, log_level="error"
            )
            self.server.start()
        return str(self.server.address)

    def stop_all(self) -> None:
        for p in self.procs.values():
            p.kill()
            p.wait()
        self.procs.clear()
        if self.server is not None:
            self.server.stop()
            self.server = None
        shutil.rmtree(self.state, ignore_errors=True)
        self.state = Path(tempfile.mkdtemp(prefix="eventsync-stages-"))

    def defs_file(self, dest_url: str, dest_batch: bool = False) -> str:
        doc = json.loads(definitions(dest_url, self.args.shards).model_dump_json())
        doc["flows"][0]["destination"]["batch"] = dest_batch
        path = self.state / "defs.json"
        path.write_text(json.dumps(doc))
        return str(path)

    def defs(self, dest_url: str, dest_batch: bool = False) -> Definitions:
        return Definitions.model_validate_json(Path(self.defs_file(dest_url, dest_batch)).read_text())


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(300):
            try:
                if (await http.get(url)).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def report(stage: str, events: int, seconds: float, cpu: dict[str, float], **extra: Any) -> dict[str, Any]:
    res = {
        "stage": stage,
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(events / seconds, 1),
        "cpu_ms_per_event": {n: round(1000 * c / events, 3) for n, c in cpu.items()},
        "cpu_ms_per_event_total": round(1000 * sum(cpu.values()) / events, 3),
        "ceiling_events_per_s_on_2_cores": round(2 * events / sum(cpu.values()), 0)
        if sum(cpu.values())
        else None,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        **extra,
    }
    print(json.dumps(res), flush=True)
    return res


async def timed(pids: dict[str, int], go: Awaitable[Any]) -> tuple[float, dict[str, float], Any]:
    cpu = CPU(pids)
    t0 = time.monotonic()
    out = await go
    return time.monotonic() - t0, cpu.used(), out


async def create_registrations(plat_url: str, n: int, run: str) -> None:
    url = f"{plat_url}/certainExternal/service/v1/BulkRegistration/DEMO/SUMMIT26"
    async with httpx.AsyncClient(auth=("sandbox", "sandbox"), timeout=120) as http:
        for start in range(0, n, 1000):
            regs = [
                {
                    "profile": {"email": f"{run}-{i}@example.com", "firstName": "Ada", "lastName": f"L{i}"},
                    "registrationCode": f"{run}R{i}",
                    "registrationStatusLabel": "New",
                }
                for i in range(start, min(n, start + 1000))
            ]
            r = await http.post(url, json={"matchBy": "email", "registrations": regs})
            r.raise_for_status()


async def stage_a(h: Harness) -> None:
    """The platform emulator's sender alone, into a sink that costs next to nothing."""
    sink_port, plat_port = free_port(), free_port()
    h.spawn("sink", "sink", "--port", str(sink_port))
    plat = f"http://127.0.0.1:{plat_port}"
    h.spawn(
        "platform", "platform", "--port", str(plat_port), "--url", f"http://127.0.0.1:{sink_port}/hook",
        "--senders", str(h.args.senders), "--batch-webhooks", str(h.args.batch_webhooks),
    )  # fmt: skip
    await wait_up(plat + "/_sandbox/state")
    pids = {n: p.pid for n, p in h.procs.items()}
    n = h.args.events

    async def go() -> None:
        await create_registrations(plat, n, uuid.uuid4().hex[:6])
        async with httpx.AsyncClient(auth=("sandbox", "sandbox"), timeout=300) as http:
            r = await http.post(plat + "/_sandbox/webhooks/drain", params={"timeout": 300})
            assert r.json()["drained"], r.text

    secs, cpu, _ = await timed(pids, go())
    report(
        "a platform -> sink", n, secs, cpu, senders=h.args.senders, events_per_webhook=h.args.batch_webhooks
    )


def signed_requests(events: list[dict[str, Any]], per_body: int) -> list[tuple[bytes, dict[str, str]]]:
    out = []
    ts = int(time.time())
    for i in range(0, len(events), per_body):
        chunk = events[i : i + per_body]
        doc: Any = chunk[0] if per_body == 1 else {"events": chunk}
        body = json.dumps(doc, separators=(",", ":")).encode()
        out.append((body, {"X-Platform-Timestamp": str(ts), "X-Platform-Signature": sign(SECRET, ts, body)}))
    return out


async def stage_b(h: Harness, sample: dict[str, Any]) -> None:
    """The receiver alone, fed by a raw client, with its router stubbed and for real."""
    for stub in (True, False):
        address = h.dev_server()
        port = free_port()
        defs = h.defs_file("http://127.0.0.1:9")
        h.spawn("receiver", "receiver", "--address", address, "--defs", defs, "--port", str(port),
                *(["--stub"] if stub else []))  # fmt: skip
        rx = f"http://127.0.0.1:{port}"
        await wait_up(rx + "/readyz")
        reqs = signed_requests(
            events_like(sample, h.args.events, uuid.uuid4().hex[:6]), h.args.batch_webhooks
        )
        pids = {"receiver": h.procs["receiver"].pid, "driver(raw client)": os.getpid()}
        if not stub:
            pids["server"] = h.server.process.pid
        secs, cpu, statuses = await timed(pids, raw_post_all(rx + "/webhooks/platform", reqs, h.args.senders))
        report(
            f"b receiver ({'router stubbed' if stub else 'signal-with-start, no worker'})",
            h.args.events, secs, cpu, statuses=statuses, senders=h.args.senders,
            events_per_webhook=h.args.batch_webhooks,
        )  # fmt: skip
        h.stop_all()


async def signal_all(address: str, defs: Definitions, events: list[dict[str, Any]], per_signal: int) -> int:
    """Signal-with-start, one sender per shard, `per_signal` events per signal (as the router)."""
    from temporalio.client import Client

    from client.router import FlowRouter
    from eventsync.flows.events import parse_body
    from eventsync.flows.sharding import shard_of
    from worker.converter import data_converter

    client = await Client.connect(address, data_converter=data_converter())
    router = FlowRouter(client, defs, "bench")
    flow = defs.flows[0]
    parsed = [e for j in range(0, len(events), 500) for e in parse_body({"events": events[j : j + 500]})]
    by_shard: dict[int, list[Any]] = {}
    for ev in parsed:
        by_shard.setdefault(shard_of(ev.record_key, flow.shards), []).append(ev)

    async def shard(k: int, evs: list[Any]) -> None:
        for i in range(0, len(evs), per_signal):
            await router._signal(flow, k, evs[i : i + per_signal])

    await asyncio.gather(*(shard(k, evs) for k, evs in by_shard.items()))
    return router.signals_sent


DELIVERED = [0]


async def shard_counts(address: str, flow: str, shards: int) -> int:
    from temporalio.client import Client

    from eventsync.flows.sharding import workflow_id
    from worker.converter import data_converter
    from workflows.flow import FlowShardWorkflow

    client = await Client.connect(address, data_converter=data_converter())
    total = 0
    DELIVERED[0] = 0
    for k in range(shards):
        h = client.get_workflow_handle(workflow_id(flow, k))
        try:
            s = await h.query(FlowShardWorkflow.summary)
            total += s.counters.delivered + s.counters.skipped
            DELIVERED[0] += s.counters.delivered
        except Exception:
            pass
    return total


async def stage_c(h: Harness, sample: dict[str, Any]) -> None:
    """Signal-with-start alone: the dev server takes batched signals, no worker runs them."""
    for per_signal in (1, 20, 200):
        address = h.dev_server()
        defs = h.defs("http://127.0.0.1:9")
        n = min(h.args.events, 1000) if per_signal == 1 else h.args.events
        evs = events_like(sample, n, uuid.uuid4().hex[:6])
        pids = {"server": h.server.process.pid, "driver(client)": os.getpid()}
        secs, cpu, signals = await timed(pids, signal_all(address, defs, evs, per_signal))
        report(f"c signal-with-start, {per_signal} events/signal, {h.args.shards} shards", n, secs, cpu,
               signals=signals, signals_per_s=round(signals / secs, 1))  # fmt: skip
        h.stop_all()


async def stage_d(h: Harness, sample: dict[str, Any]) -> None:
    """Shard workflows and the delivery activity, the destination answering at once (no HTTP)."""
    address = h.dev_server()
    h.spawn("worker", "null-worker", "--address", address, ready_line=True)
    defs = h.defs("http://127.0.0.1:9")
    n = h.args.events
    evs = events_like(sample, n, uuid.uuid4().hex[:6])
    for ev in evs:
        ev["data"]["registrationStatusLabel"] = "Registered"
    pids = {"server": h.server.process.pid, "worker": h.procs["worker"].pid, "driver(client)": os.getpid()}

    async def go() -> int:
        await signal_all(address, defs, evs, 200)
        while (done := await shard_counts(address, "bench", h.args.shards)) < n:  # noqa: ASYNC110
            await asyncio.sleep(0.25)
        return done

    secs, cpu, done = await timed(pids, go())
    report(
        f"d shards + delivery activity, null destination, {h.args.shards} shards",
        n,
        secs,
        cpu,
        settled=done,
        delivered=DELIVERED[0],
    )
    h.stop_all()


async def stage_e(h: Harness, sample: dict[str, Any]) -> None:
    """decide + render + the webhook adapter, into the sandbox webhook destination (no Temporal)."""
    from activities.connections import get_pool
    from eventsync.flows.delivery import deliver_batch
    from eventsync.flows.events import parse_body

    port = free_port()
    h.spawn("destination", "destination", "--port", str(port))
    dest = f"http://127.0.0.1:{port}"
    await wait_up(dest + "/_sandbox/state")
    defs = h.defs(dest, h.args.dest_batch)
    flow = defs.flows[0]
    conn = defs.connection(flow.destination.connection)
    n = h.args.events
    evs = parse_body({"events": events_like(sample, min(n, 500), "w")})  # warm-up batch
    await deliver_batch(get_pool(), flow, conn, evs[:100])
    raw = events_like(sample, n, uuid.uuid4().hex[:6])
    parsed = [e for j in range(0, n, 500) for e in parse_body({"events": raw[j : j + 500]})]
    pids = {"driver(activity side)": os.getpid(), "destination": h.procs["destination"].pid}

    async def go() -> int:
        # As the worker runs it: 100 per batch, MAX_BATCHES_IN_FLIGHT=2 per shard, all shards at once.
        sem = asyncio.Semaphore(2 * h.args.shards)
        ok = 0

        async def batch(b: list[Any]) -> None:
            nonlocal ok
            async with sem:
                out = await deliver_batch(get_pool(), flow, conn, b)
                ok += sum(o.outcome == "delivered" for o in out)

        await asyncio.gather(*(batch(parsed[i : i + 100]) for i in range(0, n, 100)))
        return ok

    secs, cpu, ok = await timed(pids, go())
    report(f"e delivery path -> webhook destination ({'batched' if h.args.dest_batch else 'one call per record'})",
           n, secs, cpu, delivered=ok)  # fmt: skip
    h.stop_all()


async def main(args: argparse.Namespace) -> None:
    production_env()
    h = Harness(args)
    print(json.dumps({"cores": os.cpu_count(), "loadavg_1m_idle": round(os.getloadavg()[0], 2)}), flush=True)
    sample = sample_event()
    try:
        for s in args.stage.split(","):
            if s == "a":
                await stage_a(h)
            elif s == "b":
                await stage_b(h, sample)
            elif s == "c":
                await stage_c(h, sample)
            elif s == "d":
                await stage_d(h, sample)
            elif s == "e":
                await stage_e(h, sample)
            h.stop_all()
    finally:
        h.stop_all()
        shutil.rmtree(h.state, ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--role")
    ap.add_argument("--stage", default="a,b,c,d,e")
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--senders", type=int, default=64)
    ap.add_argument("--batch-webhooks", type=int, default=1, help="events per webhook body (a, b)")
    ap.add_argument("--dest-batch", action="store_true", help="webhook destination takes a JSON array (e)")
    ap.add_argument("--address")
    ap.add_argument("--defs")
    ap.add_argument("--port", type=int)
    ap.add_argument("--url")
    ap.add_argument("--stub", action="store_true")
    a = ap.parse_args()
    if a.role is not None:
        role = a.role
        if role == "sink":
            asyncio.run(run_sink(a.port))
        elif role == "platform":
            run_platform(a.port, a.url, a.senders, a.batch_webhooks)
        elif role == "receiver":
            run_receiver(a.address, a.defs, a.port, a.stub)
        elif role == "null-worker":
            asyncio.run(run_null_worker(a.address))
        elif role == "destination":
            from benchmarks.signal import run_destination

            run_destination(a.port)
        else:
            raise SystemExit(f"unknown role {role!r}")
    else:
        asyncio.run(main(a))
        os._exit(0)  # temporalio/sdk-python#300
