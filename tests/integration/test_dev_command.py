"""`eventsync dev` as a user runs it: comes up, the smoke run is listed by the `temporal` CLI,
Ctrl-C stops everything, and after a restart the earlier run is still listed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from client.devserver import temporal_binary
from sandbox.serving import free_port


def _start(state: Path, port: int, receiver_port: int) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "client",
        "dev",
        "--state-dir",
        str(state),
        "--port",
        str(port),
        "--ui-port",
        str(free_port()),
        "--receiver-port",
        str(receiver_port),
        "--definitions",
        str(state / "none.yaml"),
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 90
    seen = ""
    for line in proc.stdout:
        seen += line
        if "eventsync dev is up" in line:
            return proc
        assert time.monotonic() < deadline, seen
    raise AssertionError(f"eventsync dev exited before it was up:\n{seen}")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out


def _smoke_runs(port: int, expect: int) -> list[str]:
    for _ in range(50):  # visibility is eventually consistent
        runs = _list_smoke(port)
        if len(runs) >= expect:
            return runs
        time.sleep(0.2)
    return runs


def _list_smoke(port: int) -> list[str]:
    listed = subprocess.run(
        [
            temporal_binary(),
            "workflow",
            "list",
            "--address",
            f"127.0.0.1:{port}",
            "--query",
            "EventsyncKind='smoke'",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return sorted(w["execution"]["workflowId"] for w in json.loads(listed.stdout or "[]"))


def test_dev_comes_up_lists_the_smoke_run_and_keeps_it_across_restarts(tmp_path: Path) -> None:
    port, receiver_port = free_port(), free_port()
    proc = _start(tmp_path, port, receiver_port)
    try:
        first = _smoke_runs(port, 1)
    finally:
        out = _stop(proc)
    assert len(first) == 1 and first[0].startswith("smoke-")
    assert "stopped" in out
    proc = _start(tmp_path, port, receiver_port)
    try:
        second = _smoke_runs(port, 2)
    finally:
        _stop(proc)
    assert first[0] in second and len(second) == 2
