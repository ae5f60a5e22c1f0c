"""Touchpoint reprocess activities: thin adapters over eventsync.touchpoint."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

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


class ResolveInput(BaseModel):
    definition: TouchpointDefinition
    platform: Connection
    touchpoint: Connection
    event: str


class ResolvedEvent(BaseModel):
    event_id: int
    event_code: str
    name: str | None = None


class PageInput(BaseModel):
    definition: TouchpointDefinition
    platform: Connection
    touchpoint: Connection
    event: ResolvedEvent
    kind: Kind
    start: int
    since: str | None = None


class PageResult(BaseModel):
    read: int
    total: int
    next_start: int | None
    event_code: str
    counts: dict[str, int]
    problems: list[str]


@activity.defn(name="touchpoint.resolve_event")
async def resolve(inp: ResolveInput) -> ResolvedEvent:
    """The event by stable id or code; makes sure Touchpoint's event carries its current code."""
    pool = get_pool()
    try:
        ref = await resolve_event(pool.client(inp.platform), inp.definition.account, inp.event)
        api = TouchpointAPI(pool.client(inp.touchpoint))
        want = {"event_code": ref.event_code, "name": ref.name or ref.event_code}
        have = await api.get_event(ref.event_id)
        if have is None or any(have.get(k) != v for k, v in want.items()):
            await api.put_event(ref.event_id, want)
    except EventNotFound as e:
        raise ApplicationError(str(e), type=EVENT_NOT_FOUND, non_retryable=True) from None
    except (HTTPCallError, MissingSecretError) as e:
        raise to_application_error(e) from None
    return ResolvedEvent(event_id=ref.event_id, event_code=ref.event_code, name=ref.name)


@activity.defn(name="touchpoint.reprocess_page")
async def page(inp: PageInput) -> PageResult:
    pool = get_pool()
    try:
        out = await reprocess_page(
            pool.client(inp.platform),
            pool.client(inp.touchpoint),
            inp.definition.as_destination(),
            inp.definition.account,
            EventRef(inp.event.event_id, inp.event.event_code, inp.event.name),
            inp.kind,
            inp.start,
            inp.definition.page_size,
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
    )
