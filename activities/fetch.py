"""The API Fetch activity: a bounded group of pages (`limits.pages_per_activity`), each fetched,
transformed and applied inside the worker, the next one requested while the current one is applied.

Records never leave this process; the workflow receives the next position, the group's
high-water mark and counts. Secrets are resolved here from the connections' references.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.connections import get_pool
from activities.errors import to_application_error
from eventsync.fetch.errors import FetchError
from eventsync.fetch.models import PageInput, PageResult
from eventsync.fetch.page import run_page
from eventsync.fetch.requester import Requester
from eventsync.http.errors import HTTPCallError
from eventsync.secrets import MissingSecretError

FETCH_PERMANENT = "FetchPermanentError"
FETCH_RETRYABLE = "FetchRetryableError"


@activity.defn
async def fetch_page(inp: PageInput) -> PageResult:
    connections = {c.name: c for c in inp.connections}
    pool = get_pool()

    def client_for(name: str) -> Requester:
        connection = connections.get(name)
        if connection is None:
            raise FetchError(f"fetch {inp.definition.name}: connection {name!r} is not defined")
        return pool.client(connection)

    try:
        return await run_page(inp, client_for, activity.heartbeat)
    except FetchError as e:
        raise ApplicationError(
            str(e), type=FETCH_PERMANENT if e.permanent else FETCH_RETRYABLE, non_retryable=e.permanent
        ) from None
    except (HTTPCallError, MissingSecretError) as e:
        raise to_application_error(e) from None
