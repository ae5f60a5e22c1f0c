"""The API Fetch activities: the worker's definition of a fetch (`fetch_definition`), and a
bounded group of pages (`limits.pages_per_activity`), each fetched, transformed and applied inside
the worker, the next one requested while the current one is applied (`fetch_page`).

Both take the fetch by NAME and resolve it, and every connection it names, from this worker's own
definitions (activities/context.py): nothing a Temporal client writes into an input chooses a
source, a target or where a credential goes. Records never leave this process; the workflow
receives the next position (with no secret in it), the group's high-water mark and counts.
"""

from __future__ import annotations

import asyncio

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import context
from activities.connections import get_pool
from activities.errors import to_application_error
from eventsync import telemetry
from eventsync.definitions.connections import ApiKeyAuth
from eventsync.definitions.fetches import FetchDefinition
from eventsync.fetch.errors import FetchError
from eventsync.fetch.models import PageInput, PageResult, Position, ResolvedFetch
from eventsync.fetch.page import run_page
from eventsync.fetch.requester import Requester
from eventsync.fetch.templating import TemplateError
from eventsync.fetch.urls import without_secrets
from eventsync.http.errors import HTTPCallError
from eventsync.secrets import MissingSecretError

FETCH_PERMANENT = "FetchPermanentError"
FETCH_RETRYABLE = "FetchRetryableError"


class DefinitionRequest(BaseModel):
    name: str
    pinned: str | None = None  # the hash the run expects; None: take the worker's current one


class RunEnded(BaseModel):
    name: str
    status: str
    seconds: float


@activity.defn(name="fetch_run_ended")
async def fetch_run_ended(ended: RunEnded) -> None:
    """The run's duration into the `eventsync.fetch.duration` metric (a local activity: the
    workflow itself records nothing outside its history)."""
    telemetry.fetch_duration.record(ended.seconds, {"fetch": ended.name, "outcome": ended.status})


@activity.defn(name="fetch_definition")
async def fetch_definition(req: DefinitionRequest) -> ResolvedFetch:
    defn = context.fetch(req.name)
    current = context.content_hash(defn)
    context.check_pinned("fetch", req.name, req.pinned, current)
    return ResolvedFetch(definition=defn, definition_hash=current)


def _auth_params(defn: FetchDefinition) -> set[str]:
    names = {defn.request.connection, defn.target.connection}
    names |= {lk.connection for lk in defn.lookups if lk.connection}
    params: set[str] = set()
    for name in names:
        auth = context.connection(name).auth
        if isinstance(auth, ApiKeyAuth) and auth.location == "query":
            params.add(auth.name)
    return params


def _recordable(position: Position | None, secret_params: set[str]) -> Position | None:
    if position is None or position.url is None:
        return position
    return position.model_copy(update={"url": without_secrets(position.url, secret_params)})


def _resumed_from() -> PageResult | None:
    """What an earlier attempt of this activity had committed (its last heartbeat), if any."""
    details = activity.info().heartbeat_details
    if not details:
        return None
    try:
        return PageResult.model_validate(details[0])
    except ValueError:
        return None  # not ours (an older worker's liveness beat): start the group again


@activity.defn(name="fetch_page")
async def fetch_page(inp: PageInput) -> PageResult:
    defn = context.fetch(inp.name)
    context.check_pinned("fetch", inp.name, inp.definition_hash, context.content_hash(defn))
    pool = get_pool()
    secret_params = _auth_params(defn)

    def client_for(name: str) -> Requester:
        # Only connections the worker itself defines; an unknown name is a permanent error.
        return pool.client(context.connection(name))

    start = _resumed_from()
    # Every heartbeat carries the committed position: a bare liveness beat would erase it.
    last: list[object] = [] if start is None else [start.model_dump(mode="json")]

    def beat() -> None:
        activity.heartbeat(*last)

    def committed(so_far: PageResult) -> None:
        recorded = so_far.model_copy(update={"next": _recordable(so_far.next, secret_params)})
        last[:] = [recorded.model_dump(mode="json")]
        activity.heartbeat(*last)

    try:
        result = await run_page(defn, inp, client_for, beat, start=start, committed=committed)
    except asyncio.CancelledError:
        if not last:
            raise
        # The run is being cancelled: hand back what has landed, so that its checkpoint holds.
        return PageResult.model_validate(last[0])
    except TemplateError as e:
        # A template naming a variable that does not exist will not start existing on a retry.
        raise ApplicationError(f"fetch {inp.name}: {e}", type=FETCH_PERMANENT, non_retryable=True) from None
    except FetchError as e:
        raise ApplicationError(
            str(e), type=FETCH_PERMANENT if e.permanent else FETCH_RETRYABLE, non_retryable=e.permanent
        ) from None
    except (HTTPCallError, MissingSecretError) as e:
        raise to_application_error(e) from None
    return result.model_copy(update={"next": _recordable(result.next, secret_params)})
