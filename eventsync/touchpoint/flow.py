"""The `touchpoint:` definition as a Signal flow (destination kind `touchpoint`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eventsync.definitions.connections import Connection
from eventsync.definitions.document import Definitions
from eventsync.definitions.flows import Batching, FlowDefinition, Source
from eventsync.definitions.touchpoint import TouchpointDefinition, TouchpointDestination
from eventsync.touchpoint.identity import matches_event

TRIGGERS = [
    "registration.created",
    "registration.updated",
    "registration.status_changed",
    "session.created",
    "session.updated",
]


def as_flow(tp: TouchpointDefinition, platform: Connection | None = None) -> FlowDefinition:
    """Every registration and session event of the account is routed to it (a registrant
    *leaving* the synced set must reach Touchpoint too); `events:` is applied when routing
    (`wants`), by stable id first, so other events never enter the Touchpoint shards."""
    events = [
        t
        for t in TRIGGERS
        if (tp.registrants and t.startswith("registration.")) or (tp.sessions and t.startswith("session."))
    ]
    return FlowDefinition(
        name=tp.name,
        enabled=tp.enabled,
        source=Source(account=tp.account, connection=tp.platform, events=events),  # type: ignore[arg-type]
        activate_for=None,
        destination=tp.as_destination(platform),
        batching=Batching(
            batch_size=None, max_concurrency=None, calls_per_second=None, max_attempts=tp.max_attempts,
            retry_window_s=86_400.0,
        ),
        shards=tp.shards,
        skip_unchanged=True,
        idle_finish_s=tp.idle_finish_s,
    )


def wants(flow: FlowDefinition, record: Mapping[str, Any]) -> bool:
    """Whether a Touchpoint flow takes a record of this platform event (other flows: always)."""
    dest = flow.destination
    return not isinstance(dest, TouchpointDestination) or matches_event(record, dest.events)


def all_flows(defs: Definitions) -> list[FlowDefinition]:
    """The definitions' Signal flows plus the Touchpoint flow, if any: what the receiver routes to."""
    flows = list(defs.flows)
    tp = defs.touchpoint
    if tp is not None and tp.enabled:
        platform = next((c for c in defs.connections if c.name == tp.platform), None)
        flows.append(as_flow(tp, platform))
    return flows
