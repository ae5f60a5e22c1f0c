"""One batch through the delivery path: decide, render, deliver, one outcome per event."""

from __future__ import annotations

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.http import ConnectionPool, HTTPCallError
from eventsync.secrets import MissingSecretError
from eventsync.signal.decide import MappingError, decide, render
from eventsync.signal.destinations import DeliveryItem, ItemResult, adapter_for, result_of_error
from eventsync.signal.events import PlatformEvent
from eventsync.signal.ordering import EventOutcome
from eventsync.signal.sharding import idempotency_key


async def deliver_batch(
    pool: ConnectionPool, flow: FlowDefinition, connection: Connection, events: list[PlatformEvent]
) -> list[EventOutcome]:
    outcomes: dict[str, EventOutcome] = {}
    items: list[DeliveryItem] = []
    rules: dict[str, str] = {}
    for ev in events:
        d = decide(flow, ev)
        if not d.activated:
            outcomes[ev.id] = EventOutcome(
                event_id=ev.id, record_key=ev.record_key, outcome="skipped", rule=d.rule
            )
            continue
        rules[ev.id] = d.rule
        try:
            body = render(flow, ev)
        except MappingError as e:
            outcomes[ev.id] = EventOutcome(
                event_id=ev.id, record_key=ev.record_key, outcome="rejected", rule=d.rule, detail=str(e)
            )
            continue
        items.append(DeliveryItem(ev.id, ev.record_key, idempotency_key(flow.name, ev.id), body))
    if items:
        adapter = adapter_for(flow.destination.kind)
        try:
            results = await adapter.deliver(flow, pool.client(connection), items)
        except MissingSecretError as e:
            results = [ItemResult(i.event_id, "rejected", None, str(e)) for i in items]
        except HTTPCallError as e:
            results = [result_of_error(i.event_id, e) for i in items]
        keys = {i.event_id: i.record_key for i in items}
        for r in results:
            outcome = {"ok": "delivered", "retry": "retry", "rejected": "rejected"}[r.outcome]
            outcomes[r.event_id] = EventOutcome(
                event_id=r.event_id,
                record_key=keys[r.event_id],
                outcome=outcome,  # type: ignore[arg-type]
                rule=rules.get(r.event_id, ""),
                status=r.status,
                detail=r.detail,
                retry_after_s=r.retry_after_s,
            )
    return [outcomes[ev.id] for ev in events if ev.id in outcomes]
