"""sync_registrant / sync_session against the Touchpoint emulator on loopback (no Temporal):
read-compare-write, so a second sync writes nothing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from eventsync.definitions.connections import Connection
from eventsync.definitions.touchpoint import TouchpointDestination
from eventsync.http import ConnectionPool
from eventsync.touchpoint.api import TouchpointAPI
from eventsync.touchpoint.attendees import PlanError
from eventsync.touchpoint.sync import sync_registrant, sync_session
from sandbox import touchpoint
from sandbox.serving import served

SYNCED = "Touchpoint: Synced"
RELATED = "Touchpoint: Related Link"
os.environ.setdefault("TP_UNIT_TOKEN", "tp-sandbox-token")


@pytest_asyncio.fixture
async def api() -> AsyncIterator[tuple[TouchpointAPI, str]]:
    with served(touchpoint.create_app()) as s:
        pool = ConnectionPool()
        conn = Connection.model_validate(
            {
                "name": "tp",
                "vendor": "touchpoint",
                "base_url": s.url,
                "auth": {"kind": "bearer", "token": "${env:TP_UNIT_TOKEN}"},
            }
        )
        yield TouchpointAPI(pool.client(conn)), s.url
        await pool.aclose()


def reg(status: str, tagged: bool) -> dict[str, Any]:
    return {
        "registrationCode": "R1",
        "eventId": 5,
        "eventCode": "E",
        "registrationStatusLabel": status,
        "profile": {"firstName": "A", "lastName": "B", "email": "a@ex.com"},
        "tags": {"registrationStatus": [{"name": SYNCED}] if tagged else []},
    }


async def calls(url: str) -> dict[str, int]:
    async with httpx.AsyncClient() as http:
        return dict((await http.get(url + "/_sandbox/state")).json()["calls"])


async def test_registrant_lifecycle_deactivate(api: tuple[TouchpointAPI, str]) -> None:
    a, url = api
    dest = TouchpointDestination(connection="tp")
    assert (await sync_registrant(a, dest, reg("Cancelled", False))).action == "absent"
    assert (await sync_registrant(a, dest, reg("New", True))).action == "created"
    before = await calls(url)
    assert (await sync_registrant(a, dest, reg("New", True))).action == "unchanged"
    assert await calls(url) == before  # no write at all
    assert (await sync_registrant(a, dest, reg("Cancelled", False))).action == "deactivated"
    assert (await sync_registrant(a, dest, reg("Cancelled", False))).action == "unchanged"
    assert (await sync_registrant(a, dest, reg("New", True))).action == "reactivated"


async def test_registrant_delete_on_leave(api: tuple[TouchpointAPI, str]) -> None:
    a, _ = api
    dest = TouchpointDestination(connection="tp", on_leave="delete")
    await sync_registrant(a, dest, reg("New", True))
    assert (await sync_registrant(a, dest, reg("Cancelled", False))).action == "deleted"
    assert await a.get_attendee(5, "R1") is None
    assert (await sync_registrant(a, dest, reg("Cancelled", False))).action == "absent"


async def test_session_links_replaced_whole_and_idempotent(api: tuple[TouchpointAPI, str]) -> None:
    a, url = api
    dest = TouchpointDestination(connection="tp")

    def session(slides: str, bad: str = "") -> dict[str, Any]:
        return {
            "sessionCode": "S1",
            "eventId": 5,
            "name": "Keynote",
            "customFields": [
                {"fieldId": 1, "name": "Slides", "position": 1, "value": slides, "tags": [{"name": RELATED}]},
                {"fieldId": 2, "name": "Bad", "position": 2, "value": bad, "tags": [{"name": RELATED}]},
            ],
        }

    r = await sync_session(a, dest, session("https://ex.com/s", "<a href='data:x'>d</a>"))
    assert r.action == "created" and r.problems and "data:" in r.problems[0]
    assert (await a.get_session(5, "S1"))["related_links"] == [  # type: ignore[index]
        {"position": 1, "title": "https://ex.com/s", "url": "https://ex.com/s"}
    ]
    before = await calls(url)
    assert (
        await sync_session(a, dest, session("https://ex.com/s", "<a href='data:x'>d</a>"))
    ).action == "unchanged"
    assert await calls(url) == before
    assert (await sync_session(a, dest, session(""))).action == "updated"
    assert (await a.get_session(5, "S1"))["related_links"] == []  # type: ignore[index]
    with pytest.raises(PlanError, match="includeList=tags"):
        s = session("x")
        for f in s["customFields"]:
            del f["tags"]
        await sync_session(a, dest, s)
