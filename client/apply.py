"""`eventsync apply`: reconcile what runs in Temporal (schedules) with the definitions.

Each feature adds its reconciler to RECONCILERS; each returns human-readable lines of what
it created, updated or deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from temporalio.client import Client

from client.schedules import reconcile_fetch_schedules
from eventsync.definitions import Definitions

Reconciler = Callable[[Client, Definitions], Awaitable[list[str]]]

RECONCILERS: list[Reconciler] = [reconcile_fetch_schedules]


async def apply(client: Client, definitions: Definitions) -> list[str]:
    changes: list[str] = []
    for reconcile in RECONCILERS:
        changes += await reconcile(client, definitions)
    return changes
