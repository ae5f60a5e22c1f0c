"""API Fetch end to end on the real dev server: sandbox REST source → Jolt → HTTP target."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    STYLES,
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    run_once,
    source_records,
    target_records,
)

pytestmark = pytest.mark.temporal


@pytest.mark.parametrize("style", list(STYLES))
async def test_each_pagination_style_syncs_every_record(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, style: str
) -> None:
    name = await apply(client, definitions(source.url, sink.url, style=style), task_queue)
    result = await run_once(client, name)
    assert result.status == "done"
    src = await source_records(source.url)
    assert_target_matches_source(await target_records(sink.url), src)
    assert result.counts.fetched == len(src) and result.counts.applied == len(src)
    assert result.carry.checkpoint == max(r["updatedAt"] for r in src.values()).replace("Z", "+00:00")


async def test_rest_lookups_enrich_each_record(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    defs = definitions(
        source.url,
        sink.url,
        lookups=[
            {
                "connection": "sink",
                "path": "/lookup/{{record.id}}",
                "into": "extra",
                "select": "$.ok",
                "concurrency": 3,
            }
        ],
        transform=[
            {"operation": "shift", "spec": {"id": "id", "updatedAt": "updatedAt", "extra": "looked_up"}}
        ],
    )
    name = await apply(client, defs, task_queue)
    assert (await run_once(client, name)).status == "done"
    held = await target_records(sink.url)
    assert len(held) == 22 and all(rec["looked_up"] is True for rec in held.values())
    lookups = await admin(sink.url, "GET", "/_sandbox/requests")
    paths = sorted(r["path"] for r in lookups["requests"] if r["path"].startswith("/lookup/"))
    assert paths == sorted(f"/lookup/{i}" for i in range(1, 23))
