"""One batch through the delivery path: decide, render, deliver, one outcome per event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from eventsync.definitions.connections import Connection
from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult, result_of_error
from eventsync.destinations.registry import adapter_for
from eventsync.flows.decide import TransformError, compiled, decide, render
from eventsync.flows.events import PlatformEvent
from eventsync.flows.ordering import EventOutcome
from eventsync.flows.sharding import idempotency_key
from eventsync.http import ConnectionPool, HTTPCallError
from eventsync.platform.api import status_tags
from eventsync.registration import Registration, previous_of, registration_of
from eventsync.secrets import MissingSecretError


async def _previous(
    pool: ConnectionPool, platform: Connection | None, ev: PlatformEvent, current: Registration
) -> Registration | None:
    """The registration before this change, for `changed_to`: None for a new registration."""
    if ev.type == "registration.created" or ev.replay:
        return None  # a replay re-sends the state as it is: every tag counts as reached
    before = ev.data.get("previous_status")
    if ev.type != "registration.status_changed" or not before or before == current.status:
        return current
    if platform is None:
        raise LookupError(
            f"flow needs the previous status's tags for changed_to: give source.connection "
            f"(the platform API) so status {before!r} can be looked up"
        )
    table = await status_tags(pool.client(platform), ev.account, ev.event_code)
    return previous_of(current, before, table.get(str(before), ()))


UNCHANGED_RULE = "unchanged: the destination already has this exact body (skip_unchanged)"


def body_hash(body: Any) -> str:
    """The hash of a rendered body, key order aside: what `skip_unchanged` compares."""
    raw = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


async def deliver_batch(
    pool: ConnectionPool,
    flow: FlowDefinition,
    connection: Connection,
    events: list[PlatformEvent],
    platform: Connection | None = None,
    last_hashes: Mapping[str, str] | None = None,
) -> list[EventOutcome]:
    """One outcome per event. `last_hashes` (record -> hash of the body last delivered to this
    flow's destination) lets an unchanged body be skipped instead of sent again: the platform
    emits an update for changes the mapping does not carry, and each one would spend quota."""
    outcomes: dict[str, EventOutcome] = {}
    items: list[DeliveryItem] = []
    rules: dict[str, str] = {}
    hashes: dict[str, str] = {}
    needs_previous = compiled(flow).needs_previous
    for ev in events:
        current = registration_of(ev.record, ev.event_code, ev.data.get("eventId"))
        previous: Registration | None = current
        if needs_previous:
            try:
                previous = await _previous(pool, platform, ev, current)
            except (HTTPCallError, LookupError) as e:
                retry = isinstance(e, HTTPCallError) and e.retryable
                outcomes[ev.id] = EventOutcome(
                    event_id=ev.id,
                    record_key=ev.record_key,
                    outcome="retry" if retry else "rejected",
                    detail=f"previous status lookup: {e}",
                )
                continue
        d = decide(flow, ev, current, previous)
        if not d.activated:
            outcomes[ev.id] = EventOutcome(
                event_id=ev.id, record_key=ev.record_key, outcome="skipped", rule=d.rule
            )
            continue
        rules[ev.id] = d.rule
        try:
            body = render(flow, ev, current, previous)
        except TransformError as e:
            outcomes[ev.id] = EventOutcome(
                event_id=ev.id, record_key=ev.record_key, outcome="rejected", rule=d.rule, detail=str(e)
            )
            continue
        h = body_hash(body)
        if flow.skip_unchanged and not ev.replay and last_hashes and last_hashes.get(ev.record_key) == h:
            outcomes[ev.id] = EventOutcome(
                event_id=ev.id, record_key=ev.record_key, outcome="skipped", rule=UNCHANGED_RULE
            )
            continue
        hashes[ev.id] = h
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
                vendor_id=r.vendor_id,
                action=r.action,
                wait=r.wait,
                body_hash=hashes.get(r.event_id) if outcome == "delivered" else None,
            )
    return [outcomes[ev.id] for ev in events if ev.id in outcomes]
