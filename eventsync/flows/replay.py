"""Replay: a flow's records for a date range, as events, to go through the flow's usual path.

Each registration modified in the range becomes one event of the flow's first registration
trigger type (updated, status changed or created, in that preference), with a fresh id and
`replay: true`, so the shards' dedupe does not drop it and `explain` shows it was a replay.
A replayed record is decided on its current state: `changed_to` rules see no previous record
(as for a new registration), so a record already in a tagged status is re-sent.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.events import PlatformEvent
from eventsync.http import ConnectionClient
from eventsync.platform.api import registrations_modified

_PREFERENCE = ("registration.updated", "registration.status_changed", "registration.created")


class ReplayError(ValueError):
    pass


def replay_type(flow: FlowDefinition) -> str:
    for t in _PREFERENCE:
        if t in flow.source.events:
            return t
    raise ReplayError(
        f"flow {flow.name!r} listens to no registration events ({', '.join(flow.source.events)}): "
        "replay re-sends registrations"
    )


def event_of(flow: FlowDefinition, etype: str, record: dict[str, Any], run: str) -> PlatformEvent:
    code = str(record.get("registrationCode") or "")
    if not code:
        raise ReplayError(
            f"a registration without registrationCode in the platform's answer: {record!r:.200}"
        )
    return PlatformEvent(
        id=f"replay-{run}-{code}",
        type=etype,
        occurred_at=str(record.get("dateModified") or ""),
        account=flow.source.account,
        event_code=str(record.get("eventCode") or ""),
        record_key=code,
        data={"registration": record, "previous_status": None, "eventId": record.get("eventId")},
        replay=True,
    )


async def replay_events(
    flow: FlowDefinition,
    platform: ConnectionClient,
    after: str,
    before: str,
    event_codes: list[str] | None = None,
    page_size: int = 500,
) -> AsyncIterator[PlatformEvent]:
    """Events for the flow's registrations modified in (after, before), oldest change first.
    `event_codes` narrows to those platform events (default: the flow's own, else all)."""
    etype = replay_type(flow)
    run = uuid.uuid4().hex[:12]
    codes = event_codes or flow.source.event_codes or None
    async for record in registrations_modified(
        platform, flow.source.account, after, before, codes, page_size
    ):
        yield event_of(flow, etype, record, run)
