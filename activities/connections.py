"""The worker's connection pool, shared by every activity in the process, and the
"Save & Test" activity (run where the worker's secrets are)."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity

from activities import context
from eventsync.connectors.check import check_connection
from eventsync.http import ConnectionPool

_pool: ConnectionPool | None = None


def get_pool() -> ConnectionPool:
    global _pool
    if _pool is None:
        _pool = ConnectionPool()
    return _pool


class CheckConnectionResult(BaseModel):
    connection: str
    ok: bool
    message: str
    status: int | None = None


@activity.defn(name="test_connection")
async def test_connection(connection: str) -> CheckConnectionResult:
    """`connection` is a name, resolved from this worker's own definitions."""
    conn = context.connection(connection)
    # A platform connection is tested on an account that uses it, from the same definitions.
    account = next(iter(context.definitions().platform_accounts(conn.name)), None)
    result = await check_connection(get_pool(), conn, account)
    return CheckConnectionResult(
        connection=result.connection, ok=result.ok, message=result.message, status=result.status
    )
