"""The same Signal path on PostgreSQL (EVENTSYNC_STORE=postgresql://…): delivery in order through
a real server, and a stopped server answered with 503 until it is back, then nothing lost."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import httpx
import pytest
from temporalio.client import Client

from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from tests.support.postgres import PostgresServer
from worker.main import build_worker


@pytest.fixture
def pg_store(postgres: PostgresServer) -> Iterator[str]:
    url = postgres.new_database("s_" + uuid.uuid4().hex[:10])
    old = os.environ.get("EVENTSYNC_STORE")
    os.environ["EVENTSYNC_STORE"] = url
    try:
        yield url
    finally:
        if old is None:
            os.environ.pop("EVENTSYNC_STORE", None)
        else:
            os.environ["EVENTSYNC_STORE"] = old


async def test_delivery_through_postgresql_survives_the_server_going_down(
    client: Client, task_queue: str, postgres: PostgresServer, pg_store: str
) -> None:
    with destination() as dest:
        defs, _ = flow_def(dest.url, skip_unchanged=False)
        async with httpx.AsyncClient(timeout=60) as http, build_worker(client, task_queue, definitions=defs):
            with receiver(client, defs, task_queue) as rx:
                for i in range(3):
                    for rec in ("G1", "G2"):
                        assert (await post_event(http, rx.url, event(rec, i))).status_code == 200
                await wait_for(dest, lambda d: d.seqs("G1") == [0, 1, 2] and d.seqs("G2") == [0, 1, 2])
                postgres.stop()
                try:
                    r = await post_event(http, rx.url, event("G1", 3))
                    assert r.status_code == 503 and r.json()["title"] == "Not stored", r.text
                    assert (await http.get(rx.url + "/readyz")).status_code == 503
                finally:
                    postgres.start()
                # back by itself: the platform's retry is stored and delivered, in order
                assert (await post_event(http, rx.url, event("G1", 3))).status_code == 200
                assert (await post_event(http, rx.url, event("G1", 4))).status_code == 200
                d = await wait_for(dest, lambda d: d.seqs("G1") == [0, 1, 2, 3, 4], timeout=90)
    assert d.seqs("G2") == [0, 1, 2]
