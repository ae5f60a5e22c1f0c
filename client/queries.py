"""Asking a running workflow something (its progress, summary, decisions) from the CLI.

A query is answered by a worker: with none polling the run's task queue the server holds it
until its own deadline, so every query here has a short one and says plainly why it got no
answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

QUERY_TIMEOUT = timedelta(seconds=10)

# The SDK reports its own rpc_timeout as CANCELLED; the server as DEADLINE_EXCEEDED, or
# RESOURCE_EXHAUSTED once queries pile up on a run nobody serves.
_UNANSWERED = (RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.RESOURCE_EXHAUSTED)


class NoAnswer(Exception):
    """No worker answered the query in time; the message says what to do."""


async def ask(handle: WorkflowHandle[Any, Any], query: Any, *args: Any) -> Any:
    try:
        return await handle.query(query, *args, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as err:
        if err.status not in _UNANSWERED:
            raise
        raise NoAnswer(
            f"run {handle.id} is running but no worker answered within {QUERY_TIMEOUT.seconds} s: "
            "start one (`eventsync worker`) on its task queue"
        ) from None
