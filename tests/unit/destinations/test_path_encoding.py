"""Issue 13 item 10: a value rendered into a URL path stays in its segment (no traversal to
another endpoint, no injected query); platform account and event codes are quoted."""

from __future__ import annotations

from eventsync.definitions.connections import Connection
from eventsync.destinations.common import segment
from eventsync.http import ConnectionPool
from eventsync.platform import api as signal_platform
from sandbox import webhook
from sandbox.serving import served

TRAVERSAL = "../../admin/users?all=1#"


def test_segment_encodes_everything_reserved() -> None:
    assert segment(TRAVERSAL) == "..%2F..%2Fadmin%2Fusers%3Fall%3D1%23"
    assert segment("..") == "%2E%2E" and segment(".") == "%2E"
    assert segment(1001) == "1001" and segment("v59.0") == "v59.0"


async def test_platform_account_and_event_codes_are_quoted() -> None:
    app = webhook.create_app()  # a recording listener standing in for the platform
    with served(app) as s:
        pool = ConnectionPool()
        try:
            client = pool.client(Connection.model_validate({"name": "p", "base_url": s.url}))
            try:
                await signal_platform.status_tags(client, "ACME/../../admin", "E1?x=1#")
            except Exception:  # noqa: BLE001 - the listener's answer is not a status list
                pass
        finally:
            await pool.aclose()
    [req] = app.state.sandbox.requests
    # The listener records the decoded path: the whole value arrived inside the path, nothing
    # was cut off into a query string or a fragment.
    assert req["path"].endswith("/RegistrationStatus/ACME/../../admin/E1?x=1#")
    assert req["query"] == "includeList=tags&max_results=1000"
