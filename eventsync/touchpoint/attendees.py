"""Registrant → Touchpoint attendee: who is synced, and with which fields.

A registration is an attendee while its status carries the synced tag (default
`Touchpoint: Synced`) and the registration is active. Otherwise it has *left*: the attendee
is deactivated (default) or deleted, per the definition's `on_leave`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from eventsync.platform.tags import tag_names
from eventsync.touchpoint.identity import IdentityError, event_id_of

# Touchpoint field <- where it comes from in the platform's Registration record.
FIELD_SOURCES: dict[str, tuple[str, ...]] = {
    "first_name": ("profile", "firstName"),
    "last_name": ("profile", "lastName"),
    "email": ("profile", "email"),
    "organization": ("profile", "organization"),
    "job_title": ("profile", "position"),
    "attendee_type": ("attendeeType",),
    "status": ("registrationStatusLabel",),
    "event_code": ("eventCode",),
}
SYNCED_FIELDS = tuple(FIELD_SOURCES)


class PlanError(ValueError):
    """A record Touchpoint will never accept as it is (the record parks with this reason)."""


@dataclass(frozen=True)
class AttendeePlan:
    event_id: int
    registration_code: str
    action: Literal["upsert", "leave"]
    reason: str
    fields: dict[str, str | None] = field(default_factory=dict)


def _get(record: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    cur: Any = record
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def status_tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    tags = record.get("tags")
    if isinstance(tags, Mapping):
        return tag_names(tags.get("registrationStatus"))
    return ()


def plan_attendee(record: Mapping[str, Any], synced_tag: str) -> AttendeePlan:
    """What Touchpoint should hold for this registration (the record as the platform returns it
    with `includeList=tags`)."""
    code = _text(record.get("registrationCode"))
    if code is None:
        raise PlanError("registration without registrationCode (the attendee key)")
    try:
        eid = event_id_of(record, f"registration {code}")
    except IdentityError as e:
        raise PlanError(str(e)) from None
    status = record.get("registrationStatusLabel")
    if record.get("deleted"):
        return AttendeePlan(eid, code, "leave", "the registration no longer exists on the platform")
    if "tags" not in record:
        raise PlanError(
            f"registration {code}: the record has no tags (read it with includeList=tags), so whether "
            f"its status carries {synced_tag!r} is unknown"
        )
    if record.get("isActive") is False:
        return AttendeePlan(eid, code, "leave", "the registration is inactive")
    if synced_tag not in status_tags(record):
        return AttendeePlan(eid, code, "leave", f"status {status!r} does not carry the tag {synced_tag!r}")
    fields = {name: _text(_get(record, src)) for name, src in FIELD_SOURCES.items()}
    if fields["attendee_type"] is None:
        fields["attendee_type"] = _text(record.get("attendeeTypeCode"))
    if not fields["email"]:
        raise PlanError(
            f"registration {code}: status {status!r} carries {synced_tag!r} but the profile has no "
            "email, which Touchpoint requires"
        )
    return AttendeePlan(eid, code, "upsert", f"status {status!r} carries the tag {synced_tag!r}", fields)


def differs(current: Mapping[str, Any] | None, plan: AttendeePlan) -> list[str]:
    """The fields (and `active`) in which Touchpoint's attendee differs from the plan."""
    if current is None:
        return ["(absent)"]
    out = [k for k, v in plan.fields.items() if current.get(k) != v]
    if current.get("active") is False:
        out.append("active")
    return out
