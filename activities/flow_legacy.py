"""The first design's delivery activity, for `FlowShard` runs still draining (workflows/flow_legacy.py).

The flow and connections in its input are used only for their names: the worker delivers with
its own definitions (a client cannot point a worker's credentials elsewhere through an input).
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import activity

from activities import context
from activities.connections import get_pool
from eventsync import telemetry
from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.delivery import deliver_batch
from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import EventOutcome

HEARTBEAT_EVERY_S = 1.0


class DeliverInput(BaseModel):
    flow: FlowDefinition
    connection: Connection
    events: list[PlatformEvent]
    platform: Connection | None = None  # the flow's source connection (previous-status lookups)


class DeliverResult(BaseModel):
    outcomes: list[EventOutcome]


@activity.defn(name="signal.deliver")
async def deliver(inp: DeliverInput) -> DeliverResult:
    # Per-item failures come back as outcomes (the workflow backs off or parks per record), so one
    # bad record never makes Temporal re-send the good ones of its batch. Heartbeats let a batch
    # lost with its worker be retried after seconds, not after the start-to-close timeout.
    flow = context.flow(inp.flow.name)
    connection = context.connection(flow.destination.connection)
    platform = context.connection(flow.source.connection) if flow.source.connection else None
    work = asyncio.ensure_future(deliver_batch(get_pool(), flow, connection, inp.events, platform))
    while True:
        done, _ = await asyncio.wait({work}, timeout=HEARTBEAT_EVERY_S)
        if done:
            outcomes = work.result()
            _count(inp, outcomes, activity.info().attempt)
            return DeliverResult(outcomes=outcomes)
        activity.heartbeat()


def _count(inp: DeliverInput, outcomes: list[EventOutcome], attempt: int) -> None:
    flow, destination = inp.flow.name, inp.connection.name
    for o in outcomes:
        if o.outcome == "skipped":
            telemetry.record_decision(flow, "skip", o.rule or "no rule")
        else:
            telemetry.record_delivery(flow, destination, o.outcome)
            if attempt == 1 and o.outcome != "retry":
                telemetry.record_decision(flow, "send", o.rule or "matched")
        if o.retry_after_s:
            telemetry.record_rate_limit_wait(destination, o.retry_after_s)
