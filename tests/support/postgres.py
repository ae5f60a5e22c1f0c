"""A throwaway PostgreSQL server (Debian's `postgresql` package) for tests and benchmarks.

    server = PostgresServer.create(Path(tmp), port=free_port())   # initdb + start + createdb
    server.url      # postgresql://eventsync:<password>@127.0.0.1:<port>/eventsync
    server.stop(); server.start()                                 # same data, same port, same URL
    with server.stopped(): ...                                    # an outage for the block
    server.destroy()                                              # stop and delete the folder

Plain Python, no third-party import, so that `scripts/postgres.sh` can run this file with any
python3 (`python3 tests/support/postgres.py start|stop|url DIR [PORT]`).

PostgreSQL refuses to run as root, and CI runs as root: as root, every server command runs as the
`postgres` system user the Debian package creates (`runuser -u postgres --`), and the folder is
handed to that user. It listens on 127.0.0.1 only, with its unix socket in the folder (nothing in
/var/run). Durability settings are the server's defaults (fsync, synchronous_commit, full page
writes): the store's durability tests need a server that flushes like production. Only initdb
itself runs with --no-sync (its own files of a throwaway cluster; the server's writes still
flush).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

USER = "eventsync"
DATABASE = "eventsync"
SYSTEM_USER = "postgres"  # created by Debian's postgresql-common
BINDIR_ENV = "EVENTSYNC_PG_BINDIR"
START_TIMEOUT_S = 60  # a busy 2-core CI machine; start-up is ~0.3 s when idle


class PostgresMissing(RuntimeError):
    """The server binaries (initdb, pg_ctl) are not installed."""


def find_bindir() -> Path | None:
    """$EVENTSYNC_PG_BINDIR, else the newest /usr/lib/postgresql/<ver>/bin (Debian keeps the server
    binaries off PATH), else initdb on PATH (other systems)."""
    if os.environ.get(BINDIR_ENV):
        return Path(os.environ[BINDIR_ENV])
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _as_root() -> bool:
    return os.geteuid() == 0


def _hand_over(path: Path) -> None:
    """As root: give `path` (and what is in it) to the postgres system user."""
    if not _as_root():
        return
    import pwd

    try:
        pw = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        raise PostgresMissing(
            f"running as root but there is no '{SYSTEM_USER}' system user to run PostgreSQL as "
            "(install Debian's postgresql package, or run as an ordinary user)"
        ) from None
    for p in [path, *path.rglob("*")]:
        os.chown(p, pw.pw_uid, pw.pw_gid)


@dataclass
class PostgresServer:
    """One cluster in `root` (data/, the socket, the log, the password) on 127.0.0.1:`port`."""

    root: Path
    port: int
    password: str
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url_for(self, database: str) -> str:
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(DATABASE)

    # -- lifecycle ---------------------------------------------------------------------------------

    @classmethod
    def create(
        cls, root: Path | None = None, port: int | None = None, password: str | None = None
    ) -> PostgresServer:
        """initdb in `root` (which must not hold a cluster yet; default: a new temporary folder),
        start, create the database. As root, the postgres user must be able to reach `root`: a
        folder under /tmp works, one under a 0700 folder (pytest's tmp_path) does not."""
        bindir = find_bindir()
        if bindir is None or not (bindir / "initdb").exists():
            raise PostgresMissing(
                "PostgreSQL server binaries not found (Debian: apt-get install postgresql; "
                f"or set {BINDIR_ENV} to the folder holding initdb and pg_ctl)"
            )
        if root is None:
            root = Path(tempfile.mkdtemp(prefix="eventsync-pg-"))
        root.mkdir(parents=True, exist_ok=True)
        server = cls(root.resolve(), port or free_port(), password or secrets.token_hex(12), bindir)
        server._initdb()
        server.start()
        server._createdb(DATABASE)
        return server

    @classmethod
    def existing(cls, root: Path) -> PostgresServer:
        """The cluster a previous create() left in `root` (port and password are kept there)."""
        root = root.resolve()
        bindir = find_bindir()
        if bindir is None:
            raise PostgresMissing("PostgreSQL server binaries not found")
        port = int((root / "port").read_text())
        return cls(root, port, (root / "password").read_text().strip(), bindir)

    def _initdb(self) -> None:
        pwfile = self.root / "password"
        pwfile.write_text(self.password + "\n")
        (self.root / "port").write_text(f"{self.port}\n")
        os.chmod(pwfile, 0o600)
        _hand_over(self.root)
        if (
            _as_root()
            and subprocess.run(self._argv("test", "-w", str(self.root), tool_path=False)).returncode
        ):
            raise RuntimeError(
                f"the '{SYSTEM_USER}' user cannot reach {self.root}: a folder above it is closed to "
                "other users (a 0700 temporary folder?); use a folder all users can traverse, such as "
                "one directly under /tmp"
            )
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            USER,
            f"--pwfile={pwfile}",
            # password over TCP (the URL carries it), trust on the private socket in this folder
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        # In the cluster's own config, so a plain `pg_ctl start` (start() after stop(), or
        # scripts/postgres.sh) comes back on the same address and port.
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# tests/support/postgres.py\n"
                "listen_addresses = '127.0.0.1'\n"
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.root}'\n"
                "logging_collector = off\n"
            )

    def start(self) -> None:
        """Start (or start again after stop()); returns once it accepts connections."""
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", str(START_TIMEOUT_S)
        )
        self._wait_accepting()

    def stop(self) -> None:
        """Stop now (fast shutdown: open sessions are cut, as in an outage); no-op when stopped."""
        if self.running():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", str(START_TIMEOUT_S))

    @contextmanager
    def stopped(self) -> Iterator[None]:
        """Down for the block, up again after it (whatever the block raised): an outage."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def running(self) -> bool:
        return (
            subprocess.run(
                self._argv("pg_ctl", "status", "-D", str(self.data)),
                cwd=self.root,
                capture_output=True,
            ).returncode
            == 0
        )

    def pid(self) -> int | None:
        """The postmaster's pid (its children are the backends), or None when stopped."""
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def destroy(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self, name: str) -> str:
        """Create another database (one per test, say) and return its URL."""
        self._createdb(name)
        return self.url_for(name)

    # -- helpers -----------------------------------------------------------------------------------

    def _wait_accepting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            probe = subprocess.run(
                self._argv("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-q"),
                cwd=self.root,
                capture_output=True,
            )
            if probe.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"PostgreSQL on port {self.port} did not accept connections: see {self.log}"
                )
            time.sleep(0.05)

    def _createdb(self, name: str) -> None:
        # Over the private socket (trust): no password on a command line.
        self._run("createdb", "-h", str(self.root), "-p", str(self.port), "-U", USER, name)

    def _argv(self, tool: str, *args: str, tool_path: bool = True) -> list[str]:
        argv = [str(self.bindir / tool) if tool_path else tool, *args]
        if _as_root():
            argv = ["runuser", "-u", SYSTEM_USER, "--", *argv]
        return argv

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(
            self._argv(tool, *args),
            cwd=self.root,  # the postgres user may not enter the caller's folder (/root)
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )
        if done.returncode != 0:
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{tool} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}"
                + (f"\n--- {self.log} ---\n{log}" if log else "")
            )


def main(argv: list[str]) -> int:
    usage = "usage: postgres.py start DIR [PORT] | stop DIR | url DIR | destroy DIR"
    if len(argv) < 2 or argv[0] not in {"start", "stop", "url", "destroy"}:
        print(usage, file=sys.stderr)
        return 2
    action, root = argv[0], Path(argv[1])
    try:
        if action == "start":
            if (root / "data" / "PG_VERSION").exists():
                server = PostgresServer.existing(root)
                if not server.running():
                    server.start()
            else:
                port = int(argv[2]) if len(argv) > 2 else None
                server = PostgresServer.create(
                    root, port=port, password=os.environ.get("EVENTSYNC_PG_PASSWORD")
                )
            print(server.url)
        elif not (root / "data" / "PG_VERSION").exists():
            print(f"no cluster in {root} (start one with: postgres.py start {root} PORT)", file=sys.stderr)
            return 1
        elif action == "stop":
            PostgresServer.existing(root).stop()
        elif action == "url":
            print(PostgresServer.existing(root).url)
        else:
            PostgresServer.existing(root).destroy()
    except (PostgresMissing, RuntimeError) as exc:
        print(f"postgres.py {action}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
