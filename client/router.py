"""From accepted events to flow shard workflows: the one path the receiver and replay share.

Events are grouped by (flow, shard). Each shard has one sender that sends its queued events as
one signal-with-start at a time: while a signal is in flight, later events gather behind it and
go in the next one. So batches grow with load by themselves (no fixed linger) and a shard's
signals leave in arrival order. `submit` returns only once every signal carrying its events was
accepted by Temporal; that is what makes the receiver's 2xx mean "durable".
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from eventsync.definitions import Definitions
from eventsync.definitions.flows import FlowDefinition
from eventsync.signal.events import PlatformEvent
from eventsync.signal.sharding import shard_of, workflow_id
from eventsync.touchpoint.flow import all_flows, wants
from workflows import search_attributes as sa
from workflows.flow import EventBatch, FlowShardInput, FlowShardWorkflow

MAX_EVENTS_PER_SIGNAL = 200  # ~1 KB each: signals stay far below the 2 MB payload limit
LINGER_S = 0.02  # gather a little before the first signal of a quiet shard: fewer signals under load


@dataclass
class _Pending:
    events: list[PlatformEvent]
    done: asyncio.Future[None]


@dataclass
class _ShardSender:
    queue: list[_Pending] = field(default_factory=list)
    task: asyncio.Task[None] | None = None


def flows_for(defs: Definitions, event: PlatformEvent) -> list[FlowDefinition]:
    """Flows that want this event at all; the finer decision (tags, filters) is made and recorded
    in the workflow, so that `explain` can say why a record was skipped."""
    return [
        f
        for f in all_flows(defs)
        if f.enabled
        and f.source.account == event.account
        and event.type in f.source.events
        and wants(f, event.record)
    ]


class FlowRouter:
    def __init__(
        self, client: Client, defs: Definitions, task_queue: str, linger_s: float = LINGER_S
    ) -> None:
        self.linger_s = linger_s
        self.client = client
        self.defs = defs
        self.task_queue = task_queue
        self.senders: dict[tuple[str, int], _ShardSender] = {}
        self.signals_sent = 0

    async def submit(self, events: list[PlatformEvent]) -> int:
        """Route events; return how many (flow, event) deliveries were accepted. Raises if Temporal
        did not accept them (the caller answers 503 and the platform retries)."""
        groups: dict[tuple[str, int], list[PlatformEvent]] = {}
        flows = {f.name: f for f in all_flows(self.defs)}
        for ev in events:
            for f in flows_for(self.defs, ev):
                groups.setdefault((f.name, shard_of(ev.record_key, f.shards)), []).append(ev)
        loop = asyncio.get_running_loop()
        waits: list[asyncio.Future[None]] = []
        for key, evs in groups.items():
            fut: asyncio.Future[None] = loop.create_future()
            sender = self.senders.setdefault(key, _ShardSender())
            sender.queue.append(_Pending(evs, fut))
            waits.append(fut)
            if sender.task is None or sender.task.done():
                sender.task = asyncio.create_task(self._drain(flows[key[0]], key[1], sender))
        if waits:
            await asyncio.gather(*waits)
        return sum(len(v) for v in groups.values())

    async def submit_replay(self, flow: FlowDefinition, events: list[PlatformEvent]) -> int:
        """Route replayed events to one flow's shards, whatever their type (the same path after)."""
        loop = asyncio.get_running_loop()
        groups: dict[int, list[PlatformEvent]] = {}
        for ev in events:
            groups.setdefault(shard_of(ev.record_key, flow.shards), []).append(ev)
        waits: list[asyncio.Future[None]] = []
        for shard, evs in groups.items():
            fut: asyncio.Future[None] = loop.create_future()
            sender = self.senders.setdefault((flow.name, shard), _ShardSender())
            sender.queue.append(_Pending(evs, fut))
            waits.append(fut)
            if sender.task is None or sender.task.done():
                sender.task = asyncio.create_task(self._drain(flow, shard, sender))
        if waits:
            await asyncio.gather(*waits)
        return len(events)

    async def _drain(self, flow: FlowDefinition, shard: int, sender: _ShardSender) -> None:
        # Each signal costs the server a workflow task; a few ms of gathering turns hundreds of
        # one-event signals per second into tens of batched ones (docs/architecture.md).
        await asyncio.sleep(self.linger_s)
        while sender.queue:
            take: list[_Pending] = []
            n = 0
            while sender.queue and (not take or n + len(sender.queue[0].events) <= MAX_EVENTS_PER_SIGNAL):
                p = sender.queue.pop(0)
                take.append(p)
                n += len(p.events)
            try:
                await self._signal(flow, shard, [e for p in take for e in p.events])
            except Exception as err:  # every waiter learns it: their HTTP answer becomes 503
                for p in take:
                    if not p.done.done():
                        p.done.set_exception(err)
                continue
            for p in take:
                if not p.done.done():
                    p.done.set_result(None)

    async def _signal(self, flow: FlowDefinition, shard: int, events: list[PlatformEvent]) -> None:
        conn = self.defs.connection(flow.destination.connection)
        platform = self.defs.connection(flow.source.connection) if flow.source.connection else None
        await self.client.start_workflow(
            FlowShardWorkflow.run,
            FlowShardInput(flow=flow, connection=conn, shard=shard, platform=platform),
            id=workflow_id(flow.name, shard),
            task_queue=self.task_queue,
            start_signal="events",
            start_signal_args=[EventBatch(events=events)],
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.KIND, "flow"),
                    SearchAttributePair(sa.NAME, flow.name),
                    SearchAttributePair(sa.ACCOUNT, flow.source.account),
                ]
            ),
        )
        self.signals_sent += 1
