"""Each store test runs on both engines: a SQLite file, and a real PostgreSQL server (the
session's `postgres_url`, started by tests/support/postgres.py) with a database of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from eventsync.store import EventStore


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "sqlite":
        s = EventStore("sqlite:///" + str(tmp_path / "events.sqlite3"))
    else:
        base: str = request.getfixturevalue("postgres_url")
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        s = EventStore(base.rsplit("/", 1)[0] + "/" + name)
    yield s
    s.close()
