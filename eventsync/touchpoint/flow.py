"""The `touchpoint:` definition as a Signal flow (destination kind `touchpoint`)."""

from __future__ import annotations

from eventsync.definitions.connections import Connection
from eventsync.definitions.document import Definitions
from eventsync.definitions.flows import Batching, FieldCondition, FlowDefinition, Rules, Source
from eventsync.definitions.touchpoint import TouchpointDefinition

TRIGGERS = [
    "registration.created",
    "registration.updated",
    "registration.status_changed",
    "registration.attended",
    "session.created",
    "session.updated",
]


def as_flow(tp: TouchpointDefinition, platform: Connection | None = None) -> FlowDefinition:
    """Every registration and session event of the account goes through (a registrant *leaving*
    the synced set must reach Touchpoint too); the event filter keeps configured events only,
    by stable id first, and a skip is recorded like any flow's."""
    ids = [e for e in tp.events if isinstance(e, int)] + [
        int(e) for e in tp.events if isinstance(e, str) and e.isdigit()
    ]
    codes = [e for e in tp.events if isinstance(e, str) and not e.isdigit()]
    conds = []
    if ids:
        conds.append(FieldCondition(field="eventId", op="is_one_of", value=ids))
    if codes:
        conds.append(FieldCondition(field="eventCode", op="is_one_of", value=codes))
    events = [
        t
        for t in TRIGGERS
        if (tp.registrants and t.startswith("registration.")) or (tp.sessions and t.startswith("session."))
    ]
    return FlowDefinition(
        name=tp.name,
        enabled=tp.enabled,
        source=Source(account=tp.account, events=events),  # type: ignore[arg-type]
        filters=Rules(match="any", fields=conds),
        destination=tp.as_destination(platform),
        batching=Batching(
            batch_size=None, max_concurrency=None, calls_per_second=None, max_attempts=tp.max_attempts
        ),
        shards=tp.shards,
        idle_finish_s=tp.idle_finish_s,
    )


def all_flows(defs: Definitions) -> list[FlowDefinition]:
    """The definitions' Signal flows plus the Touchpoint flow, if any: what the receiver routes to."""
    flows = list(defs.flows)
    tp = defs.touchpoint
    if tp is not None and tp.enabled:
        platform = next((c for c in defs.connections if c.name == tp.platform), None)
        flows.append(as_flow(tp, platform))
    return flows
