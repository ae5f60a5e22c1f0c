"""From accepted events to the event store: the one path the receiver and replay share.

Each event goes to every flow that wants it, under the shard its record key maps to, and is
appended to the store by group commit; `submit` returns once the commit is on disk (what makes
the receiver's 2xx mean "stored"). Temporal is told nothing per event: a shard's workflow is
started (or found running) at most once per shard every `ENSURE_EVERY_S` by this process, after
the commit and off the request's path, and the worker also starts any shard with pending events
(worker/keeper.py), so an event stored while Temporal was unreachable is still delivered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from temporalio.client import Client

from client.shards import ensure_shard
from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.events import PlatformEvent
from eventsync.flows.sharding import shard_of
from eventsync.keyring import Keyring
from eventsync.store import EventStore, NewEvent
from eventsync.store.appender import Appender
from eventsync.store.payload import seal
from eventsync.touchpoint.flow import all_flows, wants

log = logging.getLogger("eventsync.router")
ENSURE_EVERY_S = 30.0


def flows_for(flows: list[FlowDefinition], event: PlatformEvent) -> list[FlowDefinition]:
    """Flows that want this event at all; the finer decision (tags, filters) is made and recorded
    at delivery, so that `explain` can say why a record was skipped."""
    return [
        f
        for f in flows
        if f.enabled
        and f.source.account == event.account
        and event.type in f.source.events
        and wants(f, event.record)
    ]


class EventTooOdd(ValueError):
    """An event that parses but cannot be stored as JSON (lone surrogates, absurd nesting)."""


def encode(event: PlatformEvent, keyring: Keyring | None) -> bytes:
    try:
        raw = event.model_dump_json().encode()
    except Exception as err:  # noqa: BLE001 - pydantic's serializer errors have several types
        raise EventTooOdd(f"event {event.id}: cannot be stored as JSON ({type(err).__name__})") from None
    return seal(raw, keyring)


class FlowRouter:
    def __init__(
        self,
        store: EventStore,
        defs: Definitions,
        task_queue: str,
        client: Client | Callable[[], Awaitable[Client]] | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self.store = store
        self.defs = defs
        self.task_queue = task_queue
        self.keyring = keyring
        self.appender = Appender(store)
        # Built once: Touchpoint's flow is derived from its block, and per-event rebuilding would
        # both cost time and defeat any cache keyed by the flow.
        self.flows = all_flows(defs)
        self.by_name = {f.name: f for f in self.flows}
        self._client = client
        self._ensured: dict[tuple[str, int], float] = {}
        self._ensuring: set[asyncio.Task[None]] = set()

    def rows(self, events: list[PlatformEvent], flows: list[FlowDefinition] | None = None) -> list[NewEvent]:
        out: list[NewEvent] = []
        for ev in events:
            targets = flows if flows is not None else flows_for(self.flows, ev)
            if not targets:
                continue
            payload = encode(ev, self.keyring)
            for f in targets:
                out.append(
                    NewEvent(f.name, shard_of(ev.record_key, f.shards), ev.id, ev.record_key, ev.sequence, payload)
                )
        return out

    async def submit(self, events: list[PlatformEvent]) -> int:
        """Store the events for every flow that wants them; return how many (flow, event) rows
        that made. Raises StoreUnavailable if the store did not commit (the caller answers 503)."""
        rows = self.rows(events)
        await self.appender.append(rows)
        self.stored(rows)
        return len(rows)

    async def submit_replay(self, flow: FlowDefinition, events: list[PlatformEvent]) -> int:
        """Store replayed events for one flow, whatever their type (the same path after)."""
        rows = self.rows(events, [flow])
        await self.appender.append(rows)
        self.stored(rows)
        return len(events)

    def stored(self, rows: list[NewEvent]) -> None:
        """After a commit: make sure the shards that got events are running (off the request path)."""
        if self._client is None or not rows:
            return
        shards = {(r.flow, r.shard) for r in rows}
        now = time.monotonic()
        due = [s for s in shards if now - self._ensured.get(s, -ENSURE_EVERY_S) >= ENSURE_EVERY_S]
        for s in due:
            self._ensured[s] = now
            task = asyncio.create_task(self._start(s))
            self._ensuring.add(task)
            task.add_done_callback(self._ensuring.discard)

    async def _start(self, key: tuple[str, int]) -> None:
        flow = self.by_name.get(key[0])
        if flow is None:
            return
        try:
            c = self._client
            client = c if isinstance(c, Client) else await c()  # type: ignore[misc]
            await ensure_shard(client, self.defs, flow, key[1], self.task_queue)
        except Exception as err:  # noqa: BLE001 - the events are stored; the worker's keeper starts it
            self._ensured.pop(key, None)
            log.warning("could not start shard %s/%d: %s (the worker starts it)", key[0], key[1], type(err).__name__)
