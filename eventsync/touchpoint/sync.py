"""Make Touchpoint hold what the platform says, for one record: read, compare, write if different.

Reading first makes every sync idempotent in effect, not only in outcome: a record already
right in Touchpoint causes no write at all, so a retried batch, a re-delivered webhook or a
second reprocess changes nothing (and bumps no Touchpoint `version`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.attendees import PlanError, differs, plan_attendee
from eventsync.touchpoint.identity import IdentityError, event_id_of
from eventsync.touchpoint.links import related_links

Action = Literal[
    "created",
    "updated",
    "reactivated",
    "unchanged",
    "deactivated",
    "deleted",
    "absent",
    "skipped",
]
WRITES = frozenset({"created", "updated", "reactivated", "deactivated", "deleted"})

# Touchpoint session field <- platform Session field.
SESSION_SOURCES = {
    "title": "name",
    "description": "description",
    "starts_at": "startDate",
    "ends_at": "endDate",
    "location": "location",
}


@dataclass(frozen=True)
class SyncResult:
    key: str
    action: Action
    detail: str
    problems: tuple[str, ...] = ()  # visible reasons (refused links), the sync itself succeeded

    @property
    def changed(self) -> bool:
        return self.action in WRITES

    def describe(self) -> str:
        text = f"{self.action}: {self.detail}"
        if self.problems:
            text += "; refused: " + "; ".join(self.problems)
        return text


async def sync_registrant(
    api: TouchpointAPI, dest: TouchpointDestination, record: Mapping[str, Any]
) -> SyncResult:
    plan = plan_attendee(record, dest.synced_tag)
    key = plan.registration_code
    current = await api.get_attendee(plan.event_id, key)
    if plan.action == "leave":
        if current is None:
            return SyncResult(key, "absent", f"{plan.reason}; not in Touchpoint")
        if dest.on_leave == "delete":
            await api.delete_attendee(plan.event_id, key)
            return SyncResult(key, "deleted", plan.reason)
        if current.get("active") is False:
            return SyncResult(key, "unchanged", f"{plan.reason}; already inactive")
        if not await api.deactivate_attendee(plan.event_id, key):
            return SyncResult(key, "absent", f"{plan.reason}; not in Touchpoint")
        return SyncResult(key, "deactivated", plan.reason)
    diff = differs(current, plan)
    if not diff:
        return SyncResult(key, "unchanged", plan.reason)
    await api.put_attendee(plan.event_id, key, plan.fields)
    if current is None:
        action: Action = "created"
    elif current.get("active") is False:
        action = "reactivated"
    else:
        action = "updated"
    return SyncResult(key, action, f"{plan.reason}; changed {', '.join(diff)}")


def session_fields(record: Mapping[str, Any]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for tp, src in SESSION_SOURCES.items():
        v = record.get(src)
        out[tp] = None if v is None or (isinstance(v, str) and not v.strip()) else str(v)
    return out


async def sync_session(
    api: TouchpointAPI, dest: TouchpointDestination, record: Mapping[str, Any]
) -> SyncResult:
    code = record.get("sessionCode")
    if not isinstance(code, str) or not code:
        raise PlanError("session without sessionCode (the Touchpoint session key)")
    key = f"session:{code}"
    try:
        eid = event_id_of(record, f"session {code}")
    except IdentityError as e:
        raise PlanError(str(e)) from None
    if record.get("deleted"):
        if await api.get_session(eid, code) is None:
            return SyncResult(key, "absent", "the session no longer exists on the platform")
        await api.delete_session(eid, code)
        return SyncResult(key, "deleted", "the session no longer exists on the platform")
    if "customFields" in record and any(
        isinstance(f, Mapping) and "tags" not in f for f in record.get("customFields") or []
    ):
        raise PlanError(
            f"session {code}: custom fields without tags (read it with includeList=tags), so which "
            f"fields carry {dest.related_link_tag!r} is unknown"
        )
    fields = session_fields(record)
    if not fields["title"]:
        raise PlanError(f"session {code}: no name, and Touchpoint requires a session title")
    linkset = related_links(record, dest.related_link_tag)
    want_links = linkset.as_body()
    problems = tuple(str(n) for n in linkset.refused)
    current = await api.get_session(eid, code)
    changed: list[str] = []
    if current is None or any(current.get(k) != v for k, v in fields.items()):
        changed.append("session" if current is None else "fields")
        await api.put_session(eid, code, fields)
    have_links = [
        {"title": link.get("title"), "url": link.get("url")}
        for link in (current or {}).get("related_links", [])
    ]
    if have_links != want_links:
        changed.append(f"links ({len(have_links)} -> {len(want_links)})")
        await api.put_links(eid, code, want_links)
    summary = f"{len(want_links)} related link(s)"
    if not changed:
        return SyncResult(key, "unchanged", summary, problems)
    action: Action = "created" if current is None else "updated"
    return SyncResult(key, action, f"{summary}; changed {', '.join(changed)}", problems)


async def sync_record(
    api: TouchpointAPI, dest: TouchpointDestination, kind: str, record: Mapping[str, Any]
) -> SyncResult:
    """`kind` is `registration` or `session` (an event type's prefix)."""
    if kind == "session":
        if not dest.sessions:
            return SyncResult(f"session:{record.get('sessionCode')}", "skipped", "sessions are not synced")
        return await sync_session(api, dest, record)
    if not dest.registrants:
        return SyncResult(str(record.get("registrationCode")), "skipped", "registrants are not synced")
    return await sync_registrant(api, dest, record)
