"""A group of pages in one activity, on real loopback servers (the sandbox REST source and the
webhook receiver) through the real HTTP core: order, bounds, and what a mid-group failure keeps."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from eventsync.definitions.connections import Connection
from eventsync.definitions.fetches import FetchDefinition
from eventsync.fetch.models import PageInput, Position
from eventsync.fetch.page import run_page
from eventsync.fetch.requester import Requester
from eventsync.http import ConnectionPool
from eventsync.http.errors import RetryableHTTPError
from sandbox import restsource, webhook
from sandbox.serving import Served, served


@pytest.fixture
def source() -> Iterator[Served]:
    with served(restsource.create_app(count=22, ties=3, default_page_size=4)) as s:
        yield s


@pytest.fixture
def sink() -> Iterator[Served]:
    with served(webhook.create_app()) as s:
        yield s


@pytest.fixture
async def pool() -> AsyncIterator[ConnectionPool]:
    p = ConnectionPool()
    yield p
    await p.aclose()


def _input(source: Served, sink: Served, **over: Any) -> tuple[FetchDefinition, PageInput]:
    CONNECTIONS.update(
        src=Connection(name="src", base_url=source.url), sink=Connection(name="sink", base_url=sink.url)
    )
    defn = FetchDefinition.model_validate(
        {
            "name": "group",
            "request": {"connection": "src", "path": "/api/page?lastUpdatedAt>='{{since}}'"},
            "pagination": {
                "style": "page_number",
                "base": 1,
                "size": 4,
                "page_param": "page",
                "size_param": "count",
            },
            "records": "$.elements",
            "checkpoint": {"field": "$.updatedAt", "initial": 0, "variable": "since", "format": "epoch"},
            "transform": [{"operation": "shift", "spec": {"id": "id", "updatedAt": "updatedAt"}}],
            "target": {"kind": "http", "connection": "sink", "path": "/ingest", "chunk_size": 3},
        }
    )
    return defn, PageInput(name=defn.name, position=Position(page=1), **over)


CONNECTIONS: dict[str, Connection] = {}


def _clients(pool: ConnectionPool, inp: PageInput, fail_source_call: int | None = None) -> Any:
    by_name = {name: pool.client(c) for name, c in CONNECTIONS.items()}
    calls = {"src": 0}

    class FailingSource:
        """The real source client, except that call number `fail_source_call` fails like a 503."""

        async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
            calls["src"] += 1
            if calls["src"] == fail_source_call:
                raise RetryableHTTPError("HTTP 503 from src", connection="src", status=503)
            return await by_name["src"].request(method, url, **kw)

    def client_for(name: str) -> Requester:
        return FailingSource() if name == "src" else by_name[name]

    return client_for


async def _landed(sink: Served) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=sink.url) as http:
        requests = (await http.get("/_sandbox/requests")).json()["requests"]
    return [r for req in requests for r in req["json"]]


async def _source_ids(source: Served) -> list[str]:
    async with httpx.AsyncClient(base_url=source.url) as http:
        body = (await http.get("/api/page", params={"page": 1, "count": 100})).json()
    return [r["id"] for r in body["elements"]]


async def test_a_group_applies_its_pages_in_source_order_and_stops_at_its_size(
    source: Served, sink: Served, pool: ConnectionPool
) -> None:
    defn, inp = _input(source, sink, max_pages=3)
    result = await run_page(defn, inp, _clients(pool, inp), lambda: None)
    assert result.counts.pages == 3 and result.counts.fetched == 12 and result.counts.applied == 12
    assert result.next == Position(page=4)
    landed = await _landed(sink)
    assert [r["id"] for r in landed] == (await _source_ids(source))[:12]  # in order, nothing twice
    assert isinstance(result.high_water, str)
    top = max(datetime.fromisoformat(r["updatedAt"]) for r in landed)
    assert datetime.fromisoformat(result.high_water) == top


async def test_a_group_ends_at_the_last_page(source: Served, sink: Served, pool: ConnectionPool) -> None:
    defn, inp = _input(source, sink, max_pages=50)
    result = await run_page(defn, inp, _clients(pool, inp), lambda: None)
    assert result.next is None and result.counts.pages == 6 and result.counts.applied == 22


async def test_the_time_budget_stops_the_group_after_the_page_in_hand(
    source: Served, sink: Served, pool: ConnectionPool
) -> None:
    defn, inp = _input(source, sink, max_pages=5, budget_s=0)
    result = await run_page(defn, inp, _clients(pool, inp), lambda: None)
    assert result.counts.pages == 1 and result.next == Position(page=2)


async def test_a_later_page_failing_returns_the_pages_before_it(
    source: Served, sink: Served, pool: ConnectionPool
) -> None:
    # The third source request (page 3, prefetched while page 2 is applied) fails: pages 1 and 2
    # are reported, and the next activity starts at page 3, where it meets the failure itself.
    defn, inp = _input(source, sink, max_pages=4)
    result = await run_page(defn, inp, _clients(pool, inp, fail_source_call=3), lambda: None)
    assert result.counts.pages == 2 and result.counts.applied == 8
    assert result.next == Position(page=3)
    assert len(await _landed(sink)) == 8


async def test_the_first_page_failing_raises(source: Served, sink: Served, pool: ConnectionPool) -> None:
    defn, inp = _input(source, sink, max_pages=4)
    with pytest.raises(RetryableHTTPError):
        await run_page(defn, inp, _clients(pool, inp, fail_source_call=1), lambda: None)
    assert await _landed(sink) == []
