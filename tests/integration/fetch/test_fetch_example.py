"""examples/eloqua-contacts runs as written against the sandbox Eloqua and platform."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.client import Client

from eventsync.definitions import Definitions
from eventsync.definitions.loader import load_definitions
from sandbox import eloqua
from sandbox.platform import app as platform_app
from sandbox.serving import Served, served
from tests.integration.fetch.helpers import admin, apply, run_once

pytestmark = pytest.mark.temporal

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "eloqua-contacts"


@pytest.fixture
def emulators() -> Iterator[tuple[Served, Served]]:
    with served(eloqua.create_app()) as elq, served(platform_app.create_app()) as plat:
        yield elq, plat


def _pointed_at(defs: Definitions, urls: dict[str, str]) -> Definitions:
    connections = [c.model_copy(update={"base_url": urls[c.name]}) for c in defs.connections]
    return defs.model_copy(update={"connections": connections})


async def test_eloqua_contacts_example_upserts_every_contact(
    client: Client, task_queue: str, worker: None, emulators: tuple[Served, Served]
) -> None:
    elq, plat = emulators
    os.environ.update(ELOQUA_PASSWORD="sandbox-password", PLATFORM_PASSWORD="sandbox")
    await admin(
        plat.url,
        "POST",
        "/_sandbox/populate",
        {"events": 1, "registrations_per_event": 0, "sessions_per_event": 0},
    )
    seeder = await asyncio.create_subprocess_exec(
        sys.executable, str(EXAMPLE / "seed_eloqua.py"), "--url", elq.url, "--contacts", "30"
    )
    assert await seeder.wait() == 0
    loaded = load_definitions(EXAMPLE / "eventsync.yaml", check_secrets=False)
    assert loaded.definitions is not None, loaded.errors
    defs = _pointed_at(loaded.definitions, {"eloqua": elq.url, "platform": plat.url})
    fetch = defs.fetches[0]
    # Small pages so that the run spans several; the schedule stays off in the test.
    fetch = fetch.model_copy(
        update={"schedule": None, "pagination": fetch.pagination.model_copy(update={"size": 7})}
    )
    defs = defs.model_copy(update={"fetches": [fetch]})
    name = await apply(client, defs, task_queue)
    result = await run_once(client, name)
    assert result.status == "done", result.last_error
    assert (result.counts.fetched, result.counts.applied, result.counts.rejected) == (30, 30, 0)
    assert result.counts.pages == 5
    state = await admin(plat.url, "GET", "/_sandbox/state")
    assert state["events"][0]["eventCode"] == "SUMMIT26" and state["events"][0]["registrations"] == 30
    again = await run_once(client, name)  # nothing new: only the last second's ties are re-read
    assert again.counts.fetched <= 30 and again.carry.checkpoint == result.carry.checkpoint
