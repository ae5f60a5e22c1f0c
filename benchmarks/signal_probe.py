"""An outside observer for a long Signal benchmark (the hour-long outage): every `--every` seconds,
one JSON line with what an operator would see while the destination is down.

- each running `SignalShard`: its history length and size (the issue's bound: ≤ 10 MB), and how
  long its `summary` query takes to answer (or the error);
- `eventsync explain` for the newest record, run as a user runs it (a subprocess in the stack's
  folder): its exit code and time;
- the store: events received and still pending.

    .venv/bin/python -m benchmarks.signal_probe --address 127.0.0.1:PORT --folder /tmp/eventsync-bench-…

Run it beside `python -m benchmarks.signal … --keep` with the same environment (codec keys), or
give `--env-from PID` to take EVENTSYNC_CODEC_KEYS from one of the stack's processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def _env_from(pid: int) -> None:
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        key, _, value = item.decode(errors="replace").partition("=")
        if key.startswith("EVENTSYNC_CODEC_KEYS"):
            os.environ[key] = value


def _store(folder: Path) -> dict[str, Any]:
    db = folder / ".eventsync" / "events.sqlite3"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        received = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0]
        pending = conn.execute("SELECT COUNT(*) FROM events WHERE state = 0").fetchone()[0]
        newest = conn.execute("SELECT flow, record_key FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return {"received": received, "pending": pending, "newest": newest}


async def _shards(client: Any) -> list[dict[str, Any]]:
    out = []
    async for wf in client.list_workflows("WorkflowType = 'SignalShard' AND ExecutionStatus = 'Running'"):
        handle = client.get_workflow_handle(wf.id)
        desc = await handle.describe()
        info = desc.raw_description.workflow_execution_info
        t0 = time.perf_counter()
        try:
            summary = await asyncio.wait_for(handle.query("summary"), 20)
            keys = ("offset", "parked_count", "waiting_reason")
            answer: Any = {k: summary.get(k) for k in keys} if isinstance(summary, dict) else str(summary)[:80]
        except Exception as err:  # noqa: BLE001 — an operator sees the failure; so does the log
            answer = f"{type(err).__name__}: {str(err)[:120]}"
        out.append(
            {
                "id": wf.id,
                "history_length": info.history_length,
                "history_mb": round(info.history_size_bytes / 1e6, 3),
                "query_ms": round((time.perf_counter() - t0) * 1000, 1),
                "summary": answer,
            }
        )
    return out


def _explain(folder: Path, flow: str, record: str) -> dict[str, Any]:
    exe = Path(sys.executable).parent / "eventsync"
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(exe), "explain", "--flow", flow, "--record", record],
        cwd=folder, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return {
        "rc": proc.returncode,
        "ms": round((time.perf_counter() - t0) * 1000, 1),
        "lines": len(proc.stdout.splitlines()),
        "error": proc.stderr.strip()[-200:] if proc.returncode else "",
    }


async def main(a: argparse.Namespace) -> None:
    if a.env_from:
        _env_from(a.env_from)
    from worker.connect import connect

    client = await connect(a.address)
    folder = Path(a.folder)
    t_end = time.time() + a.seconds
    while time.time() < t_end:
        line: dict[str, Any] = {"t": round(time.time(), 1)}
        try:
            store = _store(folder)
            line["store"] = {k: store[k] for k in ("received", "pending")}
            line["shards"] = await _shards(client)
            line["max_history_mb"] = max((s["history_mb"] for s in line["shards"]), default=0)
            if store["newest"]:
                line["explain"] = _explain(folder, *store["newest"])
        except Exception as err:  # noqa: BLE001 — the probe reports, it never stops the run
            line["probe_error"] = f"{type(err).__name__}: {str(err)[:200]}"
        print(json.dumps(line), flush=True)
        await asyncio.sleep(a.every)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", required=True)
    ap.add_argument("--folder", required=True, help="the stack's folder (its .eventsync/events.sqlite3)")
    ap.add_argument("--every", type=float, default=60)
    ap.add_argument("--seconds", type=float, default=4 * 3600)
    ap.add_argument("--env-from", type=int, default=0, help="take the codec keys from this process")
    asyncio.run(main(ap.parse_args()))
