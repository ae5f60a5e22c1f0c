""" "Save & Test" for a connection: authenticate, make the connector's cheapest read, and say
what happened in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from eventsync.definitions.connections import Connection
from eventsync.http import ConnectionPool, HTTPCallError
from eventsync.http.client import ConnectionClient
from eventsync.platform.api import API as PLATFORM_API
from eventsync.secrets import MissingSecretError

# The cheapest authenticated read each vendor offers (a connection's `test_path` overrides).
CHEAPEST_READ: dict[str, str] = {
    "http": "/",
    # Every platform path carries the account code (/<Object>/<accountCode>[/<eventCode>]): the
    # account's first event. The account comes from the definitions that use the connection.
    "platform": f"/{PLATFORM_API}/Event/{{account}}?max_results=1",
    "touchpoint": "/api/v1/events",
    # A filter read for a lead id that never exists: one call, in real Marketo and the emulator.
    "marketo": "/rest/v1/leads.json?filterType=id&filterValues=0",
    "eloqua": "/id",
    "salesforce": "/services/data/v60.0/query?q=SELECT+Id+FROM+Lead+LIMIT+1",
    "hubspot": "/crm/v3/objects/contacts?limit=1",
}


@dataclass(frozen=True)
class CheckResult:
    connection: str
    ok: bool
    message: str
    status: int | None = None


async def _eloqua_ok(client: ConnectionClient, path: str) -> CheckResult:
    # Eloqua's /id answers HTTP 200 with the JSON string "Not authenticated." on a failed login,
    # not a 401 (docs/sandbox-vendors.md, "Eloqua").
    response = await client.request("GET", path)
    if response.text.strip().strip('"') == "Not authenticated.":
        return CheckResult(
            client.name, False, "Eloqua says: Not authenticated. Check site, user and password.", 200
        )
    return CheckResult(
        client.name, True, f"OK: GET {path} answered HTTP {response.status_code}", response.status_code
    )


class NoTestPath(ValueError):
    """A platform connection's test needs an account code and none was given."""


def check_path(connection: Connection, account: str | None = None) -> str:
    """The path `connections test` reads: the connection's own `test_path`, else its vendor's
    cheapest read (for the platform: of `account`)."""
    if connection.test_path:
        return connection.test_path
    path = CHEAPEST_READ.get(connection.vendor, "/")
    if "{account}" in path:
        if not account:
            raise NoTestPath(
                f"connection {connection.name!r}: a platform test reads one account's events, and no flow, "
                "touchpoint block or fetch target names an account for this connection; "
                f"fix: set `test_path: /{PLATFORM_API}/Event/<ACCOUNT>` on the connection"
            )
        path = path.replace("{account}", quote(account, safe=""))
    return path


def _platform_empty(err: HTTPCallError) -> bool:
    # The platform answers 404 "No records found" for an empty collection: the login worked.
    return err.status == 404 and "no records found" in str(err).lower()


async def check_connection(
    pool: ConnectionPool, connection: Connection, account: str | None = None
) -> CheckResult:
    try:
        path = check_path(connection, account)
    except NoTestPath as err:
        return CheckResult(connection.name, False, str(err))
    try:
        client = pool.client(connection)
        if connection.vendor == "eloqua":
            return await _eloqua_ok(client, path)
        response = await client.request("GET", path)
        return CheckResult(
            connection.name,
            True,
            f"OK: GET {path.split('?')[0]} answered HTTP {response.status_code}",
            response.status_code,
        )
    except MissingSecretError as err:
        return CheckResult(connection.name, False, str(err))
    except HTTPCallError as err:
        if connection.vendor == "platform" and _platform_empty(err):
            return CheckResult(
                connection.name, True, f"OK: GET {path.split('?')[0]} answered HTTP 404 (no events yet)", 404
            )
        return CheckResult(connection.name, False, str(err), err.status)
