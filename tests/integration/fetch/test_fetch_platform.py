"""Bulk Registration Upsert into the platform emulator: a realistic Jolt chain, per-record
rejections reported with reasons, and a re-run that updates rather than duplicates."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from temporalio.client import Client

from eventsync.definitions import Definitions
from sandbox.platform import app as platform_app
from sandbox.serving import Served, served
from tests.integration.fetch.helpers import admin, apply, run_once

pytestmark = pytest.mark.temporal

JOLT = [
    {
        "operation": "shift",
        "spec": {
            "email": "profile.email",
            "name": {"first": "profile.firstName", "last": "profile.lastName"},
            "company": {"name": "profile.organization"},
            "id": "profile.externalKey",
        },
    },
    {"operation": "modify-overwrite-beta", "spec": {"profile": {"externalKey": "=toString"}}},
]


@pytest.fixture
def platform() -> Iterator[Served]:
    with served(platform_app.create_app()) as s:
        yield s


async def test_bulk_registration_upsert_with_rejections(
    client: Client, task_queue: str, worker: None, source: Served, platform: Served
) -> None:
    os.environ["FETCH_TEST_PLATFORM_PASSWORD"] = "sandbox"
    await admin(
        platform.url,
        "POST",
        "/_sandbox/populate",
        {"events": 1, "registrations_per_event": 0, "sessions_per_event": 0},
    )
    event = (await admin(platform.url, "GET", "/_sandbox/state"))["events"][0]
    await admin(source.url, "POST", "/_sandbox/records", [{"email": "not-an-email"}])
    defs = Definitions.model_validate(
        {
            "connections": [
                {"name": "src", "base_url": source.url},
                {
                    "name": "platform",
                    "vendor": "platform",
                    "base_url": platform.url,
                    "auth": {
                        "kind": "basic",
                        "username": "sandbox",
                        "password": "${env:FETCH_TEST_PLATFORM_PASSWORD}",
                    },
                },
            ],
            "fetches": [
                {
                    "name": "platform-upsert",
                    "request": {
                        "connection": "src",
                        "path": "/api/cursor?lastUpdatedAt>='{{since}}'&limit=5",
                    },
                    "pagination": {"style": "cursor", "cursor_path": "$.cursors.next"},
                    "records": "$.data",
                    "checkpoint": {
                        "field": "$.updatedAt",
                        "initial": 0,
                        "variable": "since",
                        "format": "epoch",
                        "sorted": True,
                    },
                    "transform": JOLT,
                    "target": {
                        "kind": "platform_bulk_upsert",
                        "connection": "platform",
                        "account": event["accountCode"],
                        "event": event["eventCode"],
                        "match_key": "email",
                        "chunk_size": 4,
                    },
                }
            ],
        }
    )
    name = await apply(client, defs, task_queue)
    result = await run_once(client, name)
    assert result.status == "done"
    assert (result.counts.fetched, result.counts.applied, result.counts.rejected) == (23, 22, 1)
    [rejection] = result.counts.rejections
    assert rejection.key == "not-an-email" and "not an email address" in rejection.reason
    state = await admin(platform.url, "GET", "/_sandbox/state")
    assert state["events"][0]["registrations"] == 22

    await admin(source.url, "PATCH", "/_sandbox/records/3", {"company": {"name": "Renamed Ltd"}})
    again = await run_once(client, name)
    assert again.counts.applied >= 1
    state = await admin(platform.url, "GET", "/_sandbox/state")
    assert state["events"][0]["registrations"] == 22  # updated in place, matched by email
