"""The PostgreSQL the store's tests run on is real: it stores, it goes down, it comes back."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests.support.postgres import PostgresServer, free_port

ROOT = Path(__file__).resolve().parents[2]


def _count(url: str) -> int:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM fixture_probe").fetchone()
        assert row is not None
        return int(row[0])


def test_stores_and_survives_stop_start(postgres: PostgresServer, postgres_url: str) -> None:
    url = postgres.new_database("fixture_probe")
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE fixture_probe (id bigint PRIMARY KEY, body text NOT NULL)")
        conn.execute("INSERT INTO fixture_probe VALUES (1, 'one'), (2, 'two')")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT body FROM fixture_probe ORDER BY id").fetchall() == [("one",), ("two",)]
        assert conn.execute("SHOW fsync").fetchone() == ("on",)  # the durability tests need real flushes
    # The session URL is the server's own database, on loopback.
    assert postgres_url.startswith("postgresql://") and "@127.0.0.1:" in postgres_url
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("eventsync",)

    with postgres.stopped():
        assert not postgres.running() and postgres.pid() is None
        with pytest.raises(psycopg.OperationalError):
            _count(url)
    # Same port and password, committed rows kept.
    assert postgres.running() and postgres.pid() is not None
    assert _count(url) == 2


def test_wrong_password_refused(postgres: PostgresServer) -> None:
    wrong = postgres.url.replace(postgres.password, "not-the-password")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)


def test_script_start_stop(postgres: PostgresServer) -> None:
    """scripts/postgres.sh (benchmarks, local use): start prints a working URL, stop stops it,
    start again brings the same cluster back. (`postgres` only for its skip-or-fail when the
    binaries are missing.)"""
    script = str(ROOT / "scripts" / "postgres.sh")
    parent = Path(tempfile.mkdtemp(prefix="eventsync-pg-script-"))
    parent.chmod(0o755)  # as root the server runs as the postgres user, who must reach the folder
    folder = parent / "pg"
    port = str(free_port())

    def run(*args: str) -> str:
        return subprocess.run([script, *args], check=True, capture_output=True, text=True).stdout.strip()

    try:
        url = run("start", str(folder), port)
        assert url.endswith(f"@127.0.0.1:{port}/eventsync")
        with psycopg.connect(url) as conn:
            conn.execute("CREATE TABLE fixture_probe (id bigint)")
            conn.execute("INSERT INTO fixture_probe VALUES (7)")
        run("stop", str(folder))
        with pytest.raises(psycopg.OperationalError):
            _count(url)
        assert run("start", str(folder), port) == url
        assert _count(url) == 1
    finally:
        subprocess.run([script, "destroy", str(folder)], capture_output=True)
        destroyed = not folder.exists()
        shutil.rmtree(parent, ignore_errors=True)
    assert destroyed
