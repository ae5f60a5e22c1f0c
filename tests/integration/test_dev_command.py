"""`eventsync dev` as a user runs it: comes up, the smoke run is listed by the `temporal` CLI,
Ctrl-C stops everything, and after a restart the earlier run is still listed."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from client.devserver import temporal_binary
from sandbox.serving import free_port
from tests.support.history import payload_texts


def _start(
    state: Path,
    port: int,
    receiver_port: int,
    *,
    ui_port: int | None = None,
    codec_port: int = 0,
    env: dict[str, str] | None = None,
    extra: tuple[str, ...] = (),
) -> subprocess.Popen[str]:
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
        str(ui_port or free_port()),
        "--codec-port",
        str(codec_port),
        "--receiver-port",
        str(receiver_port),
        "--definitions",
        str(state / "none.yaml"),
        *extra,
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
        cwd=state,
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


def test_dev_without_keys_encrypts_with_its_own_and_the_web_ui_decodes(tmp_path: Path) -> None:
    # A laptop with no EVENTSYNC_CODEC_KEYS: dev makes a key in its state folder, every payload
    # is encrypted with it, and its codec server (wired into the Web UI) reads them back.
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSYNC_CODEC_KEYS")}
    port, receiver_port, ui_port, codec_port = free_port(), free_port(), free_port(), free_port()
    proc = _start(tmp_path, port, receiver_port, ui_port=ui_port, codec_port=codec_port, env=env)
    try:
        [smoke] = _smoke_runs(port, 1)
        show = [temporal_binary(), "workflow", "show", "--address", f"127.0.0.1:{port}", "-w", smoke, "-o", "json"]
        raw = subprocess.run(show, capture_output=True, text=True, timeout=30, check=True).stdout
        decoded = subprocess.run(
            [*show, "--codec-endpoint", f"http://127.0.0.1:{codec_port}"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        settings = httpx.get(f"http://127.0.0.1:{ui_port}/api/v1/settings", timeout=10).json()
    finally:
        _stop(proc)
    key_file = tmp_path / "codec.keys"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert "hello from eventsync dev" not in payload_texts(json.loads(raw))
    assert base64.b64encode(b"binary/encrypted").decode() in raw
    assert "hello from eventsync dev" in payload_texts(json.loads(decoded))
    assert settings["Codec"]["Endpoint"] == f"http://127.0.0.1:{codec_port}", settings

    # Restarted, it keeps the same key: the earlier history still decodes.
    before = key_file.read_text()
    proc = _start(tmp_path, port, receiver_port, codec_port=codec_port, env=env)
    try:
        _smoke_runs(port, 2)
        again = subprocess.run(
            [*show, "--codec-endpoint", f"http://127.0.0.1:{codec_port}"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
    finally:
        _stop(proc)
    assert key_file.read_text() == before
    assert "hello from eventsync dev" in payload_texts(json.loads(again))


def test_dev_with_the_sandbox_starts_temporal_afresh_with_the_emulators(tmp_path: Path) -> None:
    # The emulators keep their data in memory; a Temporal history older than them would tell of
    # other people under the same registration codes. (The emulators take their fixed ports.)
    port, receiver_port = free_port(), free_port()
    sandbox = ("--sandbox", "--seed", "0")
    proc = _start(tmp_path, port, receiver_port, extra=sandbox)
    try:
        first = _smoke_runs(port, 1)
    finally:
        _stop(proc)
    proc = _start(tmp_path, port, receiver_port, extra=sandbox)
    try:
        second = _smoke_runs(port, 1)
    finally:
        _stop(proc)
    assert len(first) == 1 and len(second) == 1 and first != second
    assert (tmp_path / "temporal.sqlite.previous").exists()


def test_ctrl_c_mid_activity_stops_the_workers_before_the_emulators(tmp_path: Path) -> None:
    # A Touchpoint reprocess is mid-way (each Touchpoint call slowed to 1 s) when the operator
    # stops dev: its activity is cancelled by the worker's shutdown, not failed against an
    # emulator that already went away (which printed that failure's traceback).
    port, receiver_port = free_port(), free_port()
    secrets = {
        "PLATFORM_PASSWORD": "sandbox",
        "MARKETO_CLIENT_SECRET": "sandbox-marketo-secret",
        "ELOQUA_PASSWORD": "sandbox-password",
        "TOUCHPOINT_TOKEN": "tp-sandbox-token",
    }
    env = {**os.environ, **secrets}
    defs = str(Path(__file__).resolve().parents[2] / "examples" / "dev")
    extra = ("--sandbox", "--seed", "30", "--no-smoke", "--definitions", defs)
    proc = _start(tmp_path, port, receiver_port, env=env, extra=extra)
    try:
        slow = {"path": "/api/v1/", "action": "delay", "delay_s": 1.0}
        httpx.post("http://127.0.0.1:8702/_sandbox/faults", json=slow).raise_for_status()
        started = subprocess.run(
            [sys.executable, "-m", "client", "touchpoint", "reprocess", "--account", "DEMO", "--event", "SUMMIT26"]
            + ["--no-wait", "-d", defs, "--address", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=60, env=env,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        time.sleep(4)  # the reprocess activity is now making its (slow) Touchpoint calls
    finally:
        out = _stop(proc)
    assert "Traceback" not in out, out
