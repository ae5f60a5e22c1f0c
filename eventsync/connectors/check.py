""" "Save & Test" for a connection: authenticate, make the connector's cheapest read, and say
what happened in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from eventsync.definitions.connections import Connection
from eventsync.http import ConnectionPool, HTTPCallError
from eventsync.http.client import ConnectionClient
from eventsync.secrets import MissingSecretError

# The cheapest authenticated read each vendor offers (a connection's `test_path` overrides).
CHEAPEST_READ: dict[str, str] = {
    "http": "/",
    "platform": "/certainExternal/service/v1/Event",
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
    # Eloqua's /id answers 200 "Not authenticated." on a failed login (API-FACTS §2.1).
    response = await client.request("GET", path)
    if response.text.strip().strip('"') == "Not authenticated.":
        return CheckResult(
            client.name, False, "Eloqua says: Not authenticated. Check site, user and password.", 200
        )
    return CheckResult(
        client.name, True, f"OK: GET {path} answered HTTP {response.status_code}", response.status_code
    )


async def check_connection(pool: ConnectionPool, connection: Connection) -> CheckResult:
    path = connection.test_path or CHEAPEST_READ.get(connection.vendor, "/")
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
        return CheckResult(connection.name, False, str(err), err.status)
