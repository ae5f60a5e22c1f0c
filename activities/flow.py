"""The Signal delivery activity: a thin adapter over eventsync.signal.delivery."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import activity

from activities.connections import get_pool
from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.signal.delivery import deliver_batch
from eventsync.signal.events import PlatformEvent
from eventsync.signal.ordering import EventOutcome

HEARTBEAT_EVERY_S = 1.0


class DeliverInput(BaseModel):
    flow: FlowDefinition
    connection: Connection
    events: list[PlatformEvent]


class DeliverResult(BaseModel):
    outcomes: list[EventOutcome]


@activity.defn(name="signal.deliver")
async def deliver(inp: DeliverInput) -> DeliverResult:
    # Per-item failures come back as outcomes (the workflow backs off or parks per record), so one
    # bad record never makes Temporal re-send the good ones of its batch. Heartbeats let a batch
    # lost with its worker be retried after seconds, not after the start-to-close timeout.
    work = asyncio.ensure_future(deliver_batch(get_pool(), inp.flow, inp.connection, inp.events))
    while True:
        done, _ = await asyncio.wait({work}, timeout=HEARTBEAT_EVERY_S)
        if done:
            return DeliverResult(outcomes=work.result())
        activity.heartbeat()
