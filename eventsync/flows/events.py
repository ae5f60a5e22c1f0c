"""The event catalogue and the parsing of a webhook body into events.

A body is one event object, or `{"events": [...]}` (the platform may batch). Each event:

    {"id": "evt_...", "type": "registration.status_changed", "occurred_at": "2026-...Z",
     "account": "ACME", "event_code": "SUMMIT26",
     "data": {"registration": {"registrationCode": "R1", "status": "Attended", ...,
                               "tags": {...}}, "previous_status": "Registered"}}

Session events carry `data.session` instead. The record key of an event is what orders it:
the registration code (or `session:<code>`).
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eventsync.definitions.flows import EventType

CATALOGUE: tuple[str, ...] = get_args(EventType)
MAX_BODY_BYTES = 256 * 1024
MAX_EVENTS_PER_BODY = 500


class EventParseError(ValueError):
    """A body we cannot read. `unknown_type` separates 422 (well-formed, unknown type) from 400."""

    def __init__(self, message: str, *, unknown_type: bool = False) -> None:
        super().__init__(message)
        self.unknown_type = unknown_type


class PlatformEvent(BaseModel):
    """One platform event, as the flow workflows carry it (pydantic crosses Temporal boundaries)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=200)
    type: str
    occurred_at: str = ""
    account: str
    event_code: str = ""
    record_key: str
    data: dict[str, Any] = Field(default_factory=dict)
    replay: bool = False  # synthesized by `eventsync replay`, not sent by the platform
    sequence: int = 0  # the platform's per-record counter (0: not given); orders a record's queue

    @property
    def record(self) -> dict[str, Any]:
        inner = self.data.get("registration") or self.data.get("session") or {}
        return inner if isinstance(inner, dict) else {}


def record_key_of(event_type: str, data: dict[str, Any]) -> str:
    if event_type.startswith("session."):
        session = data.get("session")
        code = session.get("sessionCode") or session.get("code") if isinstance(session, dict) else None
        if not code:
            raise EventParseError("session event without data.session.sessionCode")
        return f"session:{code}"
    reg = data.get("registration")
    code = reg.get("registrationCode") or reg.get("code") if isinstance(reg, dict) else None
    if not code:
        raise EventParseError("registration event without data.registration.registrationCode")
    return str(code)


def _one(raw: Any, where: str) -> PlatformEvent:
    if not isinstance(raw, dict):
        raise EventParseError(f"{where}: an event is a JSON object")
    etype = raw.get("type")
    if not isinstance(etype, str):
        raise EventParseError(f"{where}.type: missing or not a string")
    if etype not in CATALOGUE:
        raise EventParseError(
            f"{where}.type: unknown event type {etype!r} (known: {', '.join(CATALOGUE)})", unknown_type=True
        )
    data = raw.get("data")
    if not isinstance(data, dict):
        raise EventParseError(f"{where}.data: missing or not an object")
    obj = raw.get("object")
    if obj in ("registration", "session") and obj not in data:
        # The platform's own shape (docs/sandbox.md, "Signed webhooks"): `data` is the record itself.
        data = {obj: data, "previous_status": raw.get("previousStatus")}
    account = raw.get("account") or raw.get("accountCode")
    event_code = raw.get("event_code") or raw.get("eventCode") or ""
    try:
        return PlatformEvent(
            id=str(raw.get("id") or ""),
            type=etype,
            occurred_at=str(raw.get("occurred_at") or raw.get("occurredAt") or ""),
            account=str(account or ""),
            event_code=str(event_code),
            record_key=record_key_of(etype, data),
            data=data,
            sequence=int(raw["sequence"]) if isinstance(raw.get("sequence"), int) else 0,
        )
    except ValidationError as e:
        first = e.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise EventParseError(f"{where}.{loc}: {first['msg']}") from None


def parse_body(doc: Any) -> list[PlatformEvent]:
    """Events of a decoded JSON body, in body order. Raises EventParseError naming where."""
    if isinstance(doc, dict) and "events" in doc:
        items = doc["events"]
        if not isinstance(items, list) or not items:
            raise EventParseError("$.events: a non-empty list of events")
        if len(items) > MAX_EVENTS_PER_BODY:
            raise EventParseError(f"$.events: at most {MAX_EVENTS_PER_BODY} events per delivery")
        events = [_one(item, f"$.events[{i}]") for i, item in enumerate(items)]
    else:
        events = [_one(doc, "$")]
    for i, ev in enumerate(events):
        if not ev.account:
            raise EventParseError(f"event {i} ({ev.id or 'no id'}): missing account")
        if not ev.id:
            raise EventParseError(f"event {i}: missing id (deduplication needs it)")
    return events
