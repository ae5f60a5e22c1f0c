"""The event store over SQL: one code path for SQLite and PostgreSQL.

Every method is one transaction on a connection owned by the calling thread (callers on an
event loop run them in a thread), so a receiver's group commit and a worker's settlement never
share a connection. SQL is written once with `?` placeholders; PostgreSQL gets `%s`.

Order: `seq` is the store's arrival order. Reads never depend on an offset to be correct (the
pending index holds only unsettled rows), so a row that a concurrent PostgreSQL transaction
commits with a lower `seq` than one already read is still found on the next read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsync.keyring import Keyring, keyring_from_env
from eventsync.settings import env_or_file
from eventsync.store.models import (
    PENDING,
    SETTLED,
    Decision,
    NewEvent,
    ParkedRecord,
    RetryState,
    Settlement,
    StoredEvent,
)
from eventsync.store.payload import open_text, seal_text

STORE_ENV = "EVENTSYNC_STORE"
# The URL from a file (a mounted Secret: the URL holds the database password).
STORE_FILE_ENV = "EVENTSYNC_STORE_FILE"
DEFAULT_FILE = Path(".eventsync") / "events.sqlite3"
RETENTION_ENV = "EVENTSYNC_STORE_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 30.0
BUSY_TIMEOUT_MS = 10_000
MAX_DETAIL_CHARS = 500
READ_WINDOW = 10  # rows read per record slot: a record's own backlog cannot starve the others

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq {serial},
    flow TEXT NOT NULL,
    shard INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    record_key TEXT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0,
    received_at DOUBLE PRECISION NOT NULL,
    payload {blob} NOT NULL,
    state SMALLINT NOT NULL DEFAULT 0,
    outcome TEXT,
    settled_at DOUBLE PRECISION,
    UNIQUE (flow, event_id)
);
CREATE INDEX IF NOT EXISTS events_pending ON events (flow, shard, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS events_settled ON events (settled_at) WHERE state = 1;
CREATE INDEX IF NOT EXISTS events_received ON events (flow, received_at);
CREATE TABLE IF NOT EXISTS records (
    flow TEXT NOT NULL,
    shard INTEGER NOT NULL,
    record_key TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_failed_at DOUBLE PRECISION,
    not_before DOUBLE PRECISION NOT NULL DEFAULT 0,
    parked SMALLINT NOT NULL DEFAULT 0,
    parked_event_id TEXT,
    parked_reason TEXT,
    parked_since DOUBLE PRECISION,
    last_hash TEXT,
    PRIMARY KEY (flow, shard, record_key)
);
CREATE INDEX IF NOT EXISTS records_parked ON records (flow, shard) WHERE parked = 1;
CREATE TABLE IF NOT EXISTS decisions (
    id {serial},
    flow TEXT NOT NULL,
    record_key TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    decision TEXT NOT NULL,
    rule TEXT NOT NULL DEFAULT '',
    status INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    by_whom TEXT NOT NULL DEFAULT '',
    vendor_id TEXT,
    action TEXT
);
CREATE INDEX IF NOT EXISTS decisions_record ON decisions (flow, record_key, id);
CREATE INDEX IF NOT EXISTS decisions_at ON decisions (at);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counts (
    flow TEXT NOT NULL,
    t BIGINT NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    n BIGINT NOT NULL,
    PRIMARY KEY (flow, t, name, reason)
);
"""

BUCKET_S = 60


class StoreUnavailable(RuntimeError):
    """The store cannot commit now (locked, read-only, server down): retry later."""


def default_url() -> str:
    """`EVENTSYNC_STORE` (or the file named by `EVENTSYNC_STORE_FILE`), else the SQLite file in the state directory of the current folder, so
    `eventsync serve` and `eventsync worker` started from one folder share a store unasked."""
    configured = env_or_file(STORE_ENV)
    if configured:
        return configured
    return "sqlite:///" + str(Path.cwd() / DEFAULT_FILE)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _minute(ts: float) -> int:
    return int(ts) - int(ts) % BUCKET_S


class EventStore:
    """The store behind one URL: `sqlite:///path` or `postgresql://user:pass@host:port/db`."""

    def __init__(self, url: str, keyring: Keyring | None = None) -> None:
        self.url = url
        # Seals the free text of decisions and park reasons, as the router seals event bodies.
        self.keyring = keyring
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        if not self.postgres and not url.startswith("sqlite:///"):
            raise ValueError(
                f"{STORE_ENV}={redact_url(url)!r}: give sqlite:///path/to/file or postgresql://user:pass@host:port/db"
            )
        self.path = None if self.postgres else Path(url[len("sqlite:///") :])
        self._local = threading.local()
        # Bumped on any failure: every thread then reconnects before its next use, so a server
        # that went away and came back costs one failed request, not one per thread's connection.
        self._generation = 0
        self._schema_lock = threading.Lock()
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"EventStore({redact_url(self.url)!r})"

    # ---- connections ----------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self.postgres:
            import psycopg

            return psycopg.connect(self.url, autocommit=False, connect_timeout=5)
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the receiver answers 2xx ("a 2xx means stored"), also
        # through an OS crash; group commit pays the fsync once per batch, not per event.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        return conn

    def _conn(self) -> Any:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "generation", 0) != self._generation:
            self._close_local()
            conn = None
        if conn is None:
            conn = self._connect()
            self._local.conn, self._local.generation = conn, self._generation
        return conn

    def _drop(self) -> None:
        self._generation += 1
        self._close_local()

    def _close_local(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is gone anyway
                pass

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Any]:
        """One transaction; any database failure becomes StoreUnavailable (the caller retries).
        SQLite: a writer takes the write lock up front (no deadlock upgrading it later); a reader
        only reads a snapshot and never waits for, or blocks, a writer (WAL)."""
        self._ensure_schema()
        try:
            conn = self._conn()
            cur = conn.cursor()
            if not self.postgres:
                cur.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _Cursor(cur, self._sql)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except (sqlite3.Error, OSError) as err:
            self._drop()
            raise StoreUnavailable(f"event store {redact_url(self.url)}: {err}") from None
        except Exception as err:
            if self.postgres and _is_psycopg_error(err):
                self._drop()
                raise StoreUnavailable(f"event store {redact_url(self.url)}: {type(err).__name__}: {err}") from None
            raise

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if self._schema_ready:
                return
            serial = "BIGSERIAL PRIMARY KEY" if self.postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
            blob = "BYTEA" if self.postgres else "BLOB"
            ddl = _SCHEMA.format(serial=serial, blob=blob)
            try:
                conn = self._conn()
                cur = conn.cursor()
                created = "INSERT INTO meta (name, value) VALUES ('created_at', ?) ON CONFLICT (name) DO NOTHING"
                if self.postgres:
                    # Several processes may start at once: one creates, the others wait for it.
                    cur.execute("SELECT pg_advisory_xact_lock(727374)")
                    for stmt in ddl.split(";"):
                        if stmt.strip():
                            cur.execute(stmt)
                    cur.execute(self._sql(created), (str(time.time()),))
                    conn.commit()
                else:
                    cur.executescript(ddl)
                    cur.execute(created, (str(time.time()),))
            except (sqlite3.Error, OSError) as err:
                self._drop()
                raise StoreUnavailable(f"event store {redact_url(self.url)}: {err}") from None
            except Exception as err:
                if _is_psycopg_error(err):
                    self._drop()
                    raise StoreUnavailable(f"event store {redact_url(self.url)}: {err}") from None
                raise
            self._schema_ready = True

    def close(self) -> None:
        self._drop()

    # ---- the receiver ---------------------------------------------------------------------------

    def append(self, events: list[NewEvent], now: float | None = None) -> int:
        """Append in one transaction; an event id a flow already has is ignored (dedupe).
        Returns how many rows were new."""
        now = time.time() if now is None else now
        by_flow: dict[str, list[NewEvent]] = {}
        for e in events:
            by_flow.setdefault(e.flow, []).append(e)
        inserted = 0
        with self._tx() as cur:
            for flow, rows in by_flow.items():
                new = 0
                for e in rows:
                    cur.execute(
                        "INSERT INTO events (flow, shard, event_id, record_key, sequence, received_at, payload)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flow, event_id) DO NOTHING",
                        (e.flow, e.shard, e.event_id, e.record_key, e.sequence, now, e.payload),
                    )
                    new += max(cur.rowcount, 0)
                inserted += new
                _count(cur, flow, now, "received", new)
                _count(cur, flow, now, "duplicates", len(rows) - new)
        return inserted

    # ---- the delivery activity ------------------------------------------------------------------

    def check_writable(self) -> None:
        """Raise StoreUnavailable unless a commit could happen now (takes SQLite's write lock
        for an empty transaction: a reader would pass while another process holds it)."""
        with self._tx() as cur:
            cur.execute("SELECT 1")

    def last_seq(self) -> int:
        with self._tx(write=False) as cur:
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM events")
            return int(cur.fetchone()[0])

    def ready(
        self, flow: str, shard: int, now: float, limit: int, busy: Iterable[str] = ()
    ) -> list[StoredEvent]:
        """The next event of up to `limit` records of the shard: each record's earliest pending
        event (by the platform's per-record sequence, then arrival), none of a record that is
        parked, backing off or in `busy` (already being delivered)."""
        skip = set(busy)
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT record_key FROM records WHERE flow = ? AND shard = ? AND (parked = 1 OR not_before > ?)",
                (flow, shard, now),
            )
            skip.update(r[0] for r in cur.fetchall())
            cur.execute(
                "SELECT seq, event_id, record_key, sequence, payload, received_at FROM events"
                " WHERE flow = ? AND shard = ? AND state = 0 ORDER BY seq LIMIT ?",
                (flow, shard, max(limit * READ_WINDOW, 200) + len(skip)),
            )
            rows = cur.fetchall()
        heads: dict[str, StoredEvent] = {}
        for seq, event_id, record, sequence, payload, received_at in rows:
            if record in skip:
                continue
            ev = StoredEvent(
                int(seq), flow, shard, event_id, record, int(sequence), bytes(payload), float(received_at)
            )
            head = heads.get(record)
            if head is None:
                if len(heads) < limit:
                    heads[record] = ev
            elif ev.sequence and head.sequence and ev.sequence < head.sequence:
                heads[record] = ev  # arrived late but comes first for its record
        return sorted(heads.values(), key=lambda e: e.seq)

    def _of_records(self, columns: str, where: str, flow: str, shard: int, records: Iterable[str]) -> list[Any]:
        """`records` rows of one shard (those matching `where`), 500 keys per query."""
        keys = list(records)
        rows: list[Any] = []
        if not keys:
            return rows
        with self._tx(write=False) as cur:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                cur.execute(
                    f"SELECT record_key, {columns} FROM records WHERE flow = ? AND shard = ?"
                    f" AND record_key IN ({','.join('?' * len(chunk))}) AND {where}",
                    (flow, shard, *chunk),
                )
                rows += cur.fetchall()
        return rows

    def retry_states(self, flow: str, shard: int, records: Iterable[str]) -> dict[str, RetryState]:
        rows = self._of_records("attempts, first_failed_at, not_before", "attempts > 0", flow, shard, records)
        return {r: RetryState(int(a), float(f or 0), float(n or 0)) for r, a, f, n in rows}

    def last_hashes(self, flow: str, shard: int, records: Iterable[str]) -> dict[str, str]:
        rows = self._of_records("last_hash", "last_hash IS NOT NULL", flow, shard, records)
        return {r: h for r, h in rows}

    def settle(self, flow: str, shard: int, s: Settlement, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._tx() as cur:
            if s.settled:
                cur.executemany(
                    "UPDATE events SET state = 1, outcome = ?, settled_at = ? WHERE seq = ? AND state = 0",
                    [(outcome, now, seq) for seq, outcome in s.settled],
                )
            for record, r in s.retry.items():
                cur.execute(
                    "INSERT INTO records (flow, shard, record_key, attempts, first_failed_at, not_before)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (flow, shard, record_key) DO UPDATE SET"
                    " attempts = excluded.attempts, first_failed_at = excluded.first_failed_at,"
                    " not_before = excluded.not_before",
                    (flow, shard, record, r.attempts, r.first_failed_at, r.not_before),
                )
            for record, p in s.parked.items():
                cur.execute(
                    "INSERT INTO records (flow, shard, record_key, attempts, parked, parked_event_id,"
                    " parked_reason, parked_since) VALUES (?, ?, ?, ?, 1, ?, ?, ?)"
                    " ON CONFLICT (flow, shard, record_key) DO UPDATE SET attempts = excluded.attempts,"
                    " parked = 1, parked_event_id = excluded.parked_event_id,"
                    " parked_reason = excluded.parked_reason, parked_since = excluded.parked_since,"
                    " not_before = 0",
                    (flow, shard, record, p.attempts, p.event_id, seal_text(p.reason[:MAX_DETAIL_CHARS], self.keyring), p.since),
                )
            if s.cleared:
                cur.executemany(
                    "UPDATE records SET attempts = 0, first_failed_at = NULL, not_before = 0"
                    " WHERE flow = ? AND shard = ? AND record_key = ? AND attempts > 0",
                    [(flow, shard, r) for r in s.cleared],
                )
            for record, h in s.hashes.items():
                cur.execute(
                    "INSERT INTO records (flow, shard, record_key, last_hash) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (flow, shard, record_key) DO UPDATE SET last_hash = excluded.last_hash",
                    (flow, shard, record, h),
                )
            _decide(cur, s.decisions, self.keyring)
            for name, n in s.counts.items():
                _count(cur, flow, now, name, n)
            for reason, n in s.skipped_by.items():
                _count(cur, flow, now, "skipped_by", n, reason)

    def low_watermark(self, flow: str, shard: int) -> int:
        """Every event of the shard at or below this seq is settled (what the workflow records)."""
        with self._tx(write=False) as cur:
            cur.execute("SELECT MIN(seq) FROM events WHERE flow = ? AND shard = ? AND state = 0", (flow, shard))
            first = cur.fetchone()[0]
            if first is not None:
                return int(first) - 1
            cur.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE flow = ? AND shard = ?", (flow, shard))
            return int(cur.fetchone()[0])

    def next_wake(self, flow: str, shard: int, now: float) -> float | None:
        """When the earliest backed-off record of the shard with pending events is due."""
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT MIN(r.not_before) FROM records r WHERE r.flow = ? AND r.shard = ? AND r.parked = 0"
                " AND r.not_before > ? AND EXISTS (SELECT 1 FROM events e WHERE e.flow = r.flow"
                " AND e.shard = r.shard AND e.record_key = r.record_key AND e.state = 0)",
                (flow, shard, now),
            )
            got = cur.fetchone()[0]
        return float(got) if got is not None else None

    # ---- operators ------------------------------------------------------------------------------

    def parked(self, flow: str | None = None, shard: int | None = None, limit: int = 1000) -> list[ParkedRecord]:
        where, args = "parked = 1", list[Any]()
        if flow is not None:
            where += " AND flow = ?"
            args.append(flow)
        if shard is not None:
            where += " AND shard = ?"
            args.append(shard)
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT flow, shard, record_key, parked_event_id, parked_reason, attempts, parked_since"
                f" FROM records WHERE {where} ORDER BY parked_since, record_key LIMIT ?",
                (*args, limit),
            )
            rows = cur.fetchall()
            out = []
            for fl, sh, record, event_id, reason, attempts, since in rows:
                cur.execute(
                    "SELECT COUNT(*) FROM events WHERE flow = ? AND shard = ? AND record_key = ? AND state = 0",
                    (fl, sh, record),
                )
                pending = int(cur.fetchone()[0])
                out.append(
                    ParkedRecord(
                        fl, int(sh), record, event_id or "", open_text(reason or "", self.keyring), int(attempts),
                        float(since or 0),
                        max(0, pending - 1),
                    )
                )
        return out

    def parked_by_flow(self) -> dict[str, int]:
        """Records in the retry queue, per flow (what the `eventsync.parked` gauge shows)."""
        with self._tx(write=False) as cur:
            cur.execute("SELECT flow, COUNT(*) FROM records WHERE parked = 1 GROUP BY flow")
            return {str(flow): int(n) for flow, n in cur.fetchall()}

    def parked_count(self, flow: str, shard: int) -> int:
        with self._tx(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM records WHERE flow = ? AND shard = ? AND parked = 1", (flow, shard))
            return int(cur.fetchone()[0])

    def retry(self, flow: str, shard: int, record: str | None, by: str, reason: str, now: float) -> list[str]:
        """Unpark (one record, or every parked record of the shard): its parked event and those
        held behind it go out again, in order, with a fresh retry budget."""
        with self._tx() as cur:
            targets = _targets(cur, flow, shard, record)
            for r, _ in targets:
                cur.execute(
                    "UPDATE records SET parked = 0, attempts = 0, first_failed_at = NULL, not_before = 0,"
                    " parked_event_id = NULL, parked_reason = NULL, parked_since = NULL"
                    " WHERE flow = ? AND shard = ? AND record_key = ?",
                    (flow, shard, r),
                )
            _decide(
                cur,
                [Decision(now, flow, r, e, "", "retried", by=by, detail=reason) for r, e in targets],
                self.keyring,
            )
        return [r for r, _ in targets]

    def discard(self, flow: str, shard: int, record: str | None, by: str, reason: str, now: float) -> list[str]:
        """Drop the parked event and everything held behind it, with who and why."""
        with self._tx() as cur:
            targets = _targets(cur, flow, shard, record)
            dropped = 0
            for r, _ in targets:
                cur.execute(
                    "SELECT seq, event_id FROM events WHERE flow = ? AND shard = ? AND record_key = ?"
                    " AND state = 0 ORDER BY seq",
                    (flow, shard, r),
                )
                rows = cur.fetchall()
                cur.executemany(
                    "UPDATE events SET state = 1, outcome = 'discarded', settled_at = ? WHERE seq = ?",
                    [(now, seq) for seq, _ in rows],
                )
                cur.execute(
                    "DELETE FROM records WHERE flow = ? AND shard = ? AND record_key = ?", (flow, shard, r)
                )
                _decide(
                    cur,
                    [Decision(now, flow, r, e, "", "discarded", by=by, detail=reason) for _, e in rows],
                    self.keyring,
                )
                dropped += len(rows)
            _count(cur, flow, now, "discarded", dropped)
        return [r for r, _ in targets]

    # ---- reading --------------------------------------------------------------------------------

    def decisions(self, flow: str, record: str, limit: int = 200) -> list[Decision]:
        """A record's story, oldest first: every decision kept, then what still waits."""
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT at, event_id, event_type, decision, rule, status, detail, by_whom, vendor_id, action"
                " FROM decisions WHERE flow = ? AND record_key = ? ORDER BY id DESC LIMIT ?",
                (flow, record, limit),
            )
            rows = list(reversed(cur.fetchall()))
            cur.execute(
                "SELECT parked, parked_event_id, not_before FROM records WHERE flow = ? AND record_key = ?",
                (flow, record),
            )
            state = cur.fetchone()
            cur.execute(
                "SELECT event_id, received_at FROM events WHERE flow = ? AND record_key = ? AND state = 0"
                " ORDER BY seq LIMIT ?",
                (flow, record, limit),
            )
            waiting = cur.fetchall()
        out = [
            Decision(
                float(at), flow, record, e, t or "", d, rule or "", status,
                open_text(detail or "", self.keyring), by or "", v, a,
            )
            for at, e, t, d, rule, status, detail, by, v, a in rows
        ]
        parked_id = state[1] if state and state[0] else None
        for event_id, received_at in waiting:
            if event_id == parked_id:
                continue
            if parked_id:
                out.append(
                    Decision(float(received_at), flow, record, event_id, "", "held",
                             detail=f"held behind the parked event {parked_id}")
                )
            else:
                out.append(Decision(float(received_at), flow, record, event_id, "", "queued",
                                    detail="stored, waiting for its turn"))
        return out

    def received_between(
        self, flow: str, after: float, before: float, after_seq: int = 0, limit: int = 1000
    ) -> list[StoredEvent]:
        """A flow's events received in (after, before), in arrival order, `limit` at a time."""
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT seq, shard, event_id, record_key, sequence, payload, received_at FROM events"
                " WHERE flow = ? AND received_at > ? AND received_at < ? AND seq > ? ORDER BY seq LIMIT ?",
                (flow, after, before, after_seq, limit),
            )
            rows = cur.fetchall()
        return [
            StoredEvent(int(q), flow, int(sh), e, r, int(n), bytes(p), float(t)) for q, sh, e, r, n, p, t in rows
        ]

    def holds_since(self, retention_s: float, now: float | None = None) -> float:
        """From when on the store holds every event it received: its creation, or the retention
        horizon once it is older than that."""
        now = time.time() if now is None else now
        with self._tx(write=False) as cur:
            cur.execute("SELECT value FROM meta WHERE name = 'created_at'")
            row = cur.fetchone()
        created = float(row[0]) if row else now
        return max(created, now - retention_s)

    def pending(self, flow: str) -> int:
        with self._tx(write=False) as cur:
            cur.execute("SELECT COUNT(*) FROM events WHERE flow = ? AND state = 0", (flow,))
            return int(cur.fetchone()[0])

    def flows(self) -> list[str]:
        """Every flow the store has events of."""
        with self._tx(write=False) as cur:
            cur.execute("SELECT DISTINCT flow FROM events")
            return sorted(r[0] for r in cur.fetchall())

    def pending_shards(self) -> list[tuple[str, int]]:
        with self._tx(write=False) as cur:
            cur.execute("SELECT DISTINCT flow, shard FROM events WHERE state = 0")
            return sorted((f, int(s)) for f, s in cur.fetchall())

    def counts(self, flow: str, since: float) -> list[tuple[int, str, str, int]]:
        """(minute, counter, reason, n) rows of a flow from `since` on, oldest first."""
        with self._tx(write=False) as cur:
            cur.execute(
                "SELECT t, name, reason, n FROM counts WHERE flow = ? AND t >= ? ORDER BY t",
                (flow, _minute(since)),
            )
            return [(int(t), n, r, int(c)) for t, n, r, c in cur.fetchall()]

    def prune(self, older_than: float) -> int:
        """Forget settled events, decisions and counts older than the retention window."""
        with self._tx() as cur:
            cur.execute("DELETE FROM events WHERE state = 1 AND settled_at < ?", (older_than,))
            gone = max(cur.rowcount, 0)
            cur.execute("DELETE FROM decisions WHERE at < ?", (older_than,))
            cur.execute("DELETE FROM counts WHERE t < ?", (_minute(older_than),))
        return gone


class _Cursor:
    """A DB-API cursor that speaks `?` on both engines."""

    def __init__(self, cur: Any, sql: Callable[[str], str]) -> None:
        self._cur = cur
        self._sql = sql

    def execute(self, sql: str, args: tuple[Any, ...] | list[Any] = ()) -> None:
        self._cur.execute(self._sql(sql), tuple(args))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self._cur.executemany(self._sql(sql), rows)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cur.fetchall())

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


def _count(cur: _Cursor, flow: str, now: float, name: str, n: int, reason: str = "") -> None:
    if n <= 0:
        return
    cur.execute(
        "INSERT INTO counts (flow, t, name, reason, n) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (flow, t, name, reason) DO UPDATE SET n = counts.n + excluded.n",
        (flow, _minute(now), name, reason[:200], n),
    )


def _decide(cur: _Cursor, decisions: list[Decision], keyring: Keyring | None) -> None:
    cur.executemany(
        "INSERT INTO decisions (flow, record_key, at, event_id, event_type, decision, rule, status,"
        " detail, by_whom, vendor_id, action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                d.flow, d.record_key, d.at, d.event_id, d.event_type, d.decision, d.rule[:MAX_DETAIL_CHARS],
                d.status, seal_text(d.detail[:MAX_DETAIL_CHARS], keyring), d.by[:200], d.vendor_id, d.action,
            )
            for d in decisions
        ],
    )


def _targets(cur: _Cursor, flow: str, shard: int, record: str | None) -> list[tuple[str, str]]:
    if record is None:
        cur.execute(
            "SELECT record_key, parked_event_id FROM records WHERE flow = ? AND shard = ? AND parked = 1",
            (flow, shard),
        )
    else:
        cur.execute(
            "SELECT record_key, parked_event_id FROM records WHERE flow = ? AND shard = ? AND record_key = ?"
            " AND parked = 1",
            (flow, shard, record),
        )
    return [(r, e or "") for r, e in cur.fetchall()]


def _is_psycopg_error(err: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(err, psycopg.Error)


_stores: dict[str, EventStore] = {}
_stores_lock = threading.Lock()


def open_store(url: str | None = None) -> EventStore:
    """The process's one store object for a URL (its connections are per thread)."""
    url = url or default_url()
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = EventStore(url, keyring=keyring_from_env())
        return store


__all__ = ["EventStore", "StoreUnavailable", "open_store", "default_url", "PENDING", "SETTLED"]
