"""Touchpoint reprocess activities: thin adapters over eventsync.touchpoint.

Inputs carry the touchpoint definition's NAME (and the account it is for, and optionally the
definition's content hash the run pinned); the definition and both of its connections come from
this worker's own definitions (activities/context.py). Nothing a Temporal client writes into an
input chooses where the platform password or the Touchpoint token goes (docs/security.md).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, model_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import context
from activities.connections import get_pool
from activities.errors import to_application_error
from eventsync.definitions.connections import Connection
from eventsync.definitions.touchpoint import TouchpointDefinition
from eventsync.http import HTTPCallError
from eventsync.platform.api import EventNotFound, EventRef, Kind, resolve_event
from eventsync.secrets import MissingSecretError
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.reprocess import reprocess_page

EVENT_NOT_FOUND = "EventNotFound"
KIND_NOT_SYNCED = "KindNotSynced"
# What inputs written before names carried: a whole definition and two whole connections.
LEGACY_FIELDS = ("definition", "platform", "touchpoint")


def names_only(data: Any) -> Any:
    """An input of the old shape, reduced to the names in it. Its definition gives only its
    `name` and `account`; its connections are dropped unread, so an old-shape input (an in-flight
    run from before the change, or a hostile client's) is resolved like a new one: by name, from
    the worker's own definitions."""
    if not isinstance(data, dict) or not any(k in data for k in LEGACY_FIELDS):
        return data
    legacy = data.get("definition")
    out = {k: v for k, v in data.items() if k not in LEGACY_FIELDS}
    if isinstance(legacy, dict):
        out.setdefault("name", legacy.get("name", "touchpoint"))
        out.setdefault("account", legacy.get("account"))
    return out


class ResolveInput(BaseModel):
    name: str  # the touchpoint definition (the worker's `touchpoint:` block) by name
    account: str
    event: str
    pinned: str | None = None  # its content hash the run expects; None: the worker's current one

    _legacy = model_validator(mode="before")(names_only)


class ResolvedEvent(BaseModel):
    event_id: int
    event_code: str
    name: str | None = None
    definition_hash: str | None = None  # the definition the activity ran with (None: an older worker)


class PageInput(BaseModel):
    name: str
    account: str
    event: ResolvedEvent
    kind: Kind
    start: int
    since: str | None = None
    pinned: str | None = None

    _legacy = model_validator(mode="before")(names_only)


class PageResult(BaseModel):
    read: int
    total: int
    next_start: int | None
    event_code: str
    counts: dict[str, int]
    problems: list[str]
    definition_hash: str | None = None


def _resolved(name: str, account: str, pinned: str | None) -> tuple[TouchpointDefinition, str, Connection, Connection]:
    """The worker's definition by name, checked against the run's pin and account, and its two
    connections, also the worker's own. Each refusal is non-retryable: it parks the run."""
    defn = context.touchpoint(name)
    current = context.content_hash(defn)
    context.check_pinned("touchpoint definition", name, pinned, current)
    if defn.account != account:
        raise ApplicationError(
            f"touchpoint definition {name!r} is for platform account {defn.account!r}, not {account!r}",
            type=context.UNKNOWN_NAME,
            non_retryable=True,
        )
    return defn, current, context.connection(defn.platform), context.connection(defn.connection)


@activity.defn(name="touchpoint.resolve_event")
async def resolve(inp: ResolveInput) -> ResolvedEvent:
    """The event by stable id or code; makes sure Touchpoint's event carries its current code."""
    defn, current, platform, touchpoint = _resolved(inp.name, inp.account, inp.pinned)
    pool = get_pool()
    try:
        ref = await resolve_event(pool.client(platform), defn.account, inp.event)
        api = TouchpointAPI(pool.client(touchpoint))
        want = {"event_code": ref.event_code, "name": ref.name or ref.event_code}
        have = await api.get_event(ref.event_id)
        if have is None or any(have.get(k) != v for k, v in want.items()):
            await api.put_event(ref.event_id, want)
    except EventNotFound as e:
        raise ApplicationError(str(e), type=EVENT_NOT_FOUND, non_retryable=True) from None
    except (HTTPCallError, MissingSecretError) as e:
        raise to_application_error(e) from None
    return ResolvedEvent(event_id=ref.event_id, event_code=ref.event_code, name=ref.name, definition_hash=current)


@activity.defn(name="touchpoint.reprocess_page")
async def page(inp: PageInput) -> PageResult:
    defn, current, platform, touchpoint = _resolved(inp.name, inp.account, inp.pinned)
    if not (defn.sessions if inp.kind == "sessions" else defn.registrants):
        raise ApplicationError(
            f"touchpoint definition {inp.name!r} does not sync {inp.kind}", type=KIND_NOT_SYNCED, non_retryable=True
        )
    pool = get_pool()
    try:
        out = await reprocess_page(
            pool.client(platform),
            pool.client(touchpoint),
            defn.as_destination(),
            defn.account,
            EventRef(inp.event.event_id, inp.event.event_code, inp.event.name),
            inp.kind,
            inp.start,
            defn.page_size,
            inp.since,
            heartbeat=lambda n: activity.heartbeat(n),
        )
    except EventNotFound as e:
        raise ApplicationError(str(e), type=EVENT_NOT_FOUND, non_retryable=True) from None
    except (HTTPCallError, MissingSecretError) as e:
        raise to_application_error(e) from None
    return PageResult(
        read=out.read,
        total=out.total,
        next_start=out.next_start,
        event_code=out.event_code,
        counts=out.counts,
        problems=out.problems,
        definition_hash=current,
    )
