"""Event identity: Touchpoint events are keyed by the platform's stable `eventId`.

The seed product keyed the integration by the event *code*, so an organiser renaming the code
broke the sync. The platform gives every event an integer `eventId` that never changes; we key
by it. The code is only an attribute (carried on each attendee and on the Touchpoint event), so
after a code change the next sync of a record updates it and nothing is orphaned.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class IdentityError(ValueError):
    """A record that cannot be placed in a Touchpoint event (names the record and the field)."""


def event_id_of(record: Mapping[str, Any], what: str) -> int:
    raw = record.get("eventId")
    if isinstance(raw, bool) or raw is None:
        raise IdentityError(f"{what}: no eventId in the platform record (the stable event key)")
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise IdentityError(f"{what}: eventId {raw!r} is not an integer") from None
    if value <= 0:
        raise IdentityError(f"{what}: eventId {value} is not a positive integer")
    return value


def matches_event(record: Mapping[str, Any], wanted: list[int | str]) -> bool:
    """Whether a record belongs to one of the configured events (ids, or codes as a fallback)."""
    if not wanted:
        return True
    eid = record.get("eventId")
    code = record.get("eventCode")
    for w in wanted:
        if isinstance(w, int) and eid is not None and str(eid) == str(w):
            return True
        if isinstance(w, str) and (w == code or (w.isdigit() and str(eid) == w)):
            return True
    return False
