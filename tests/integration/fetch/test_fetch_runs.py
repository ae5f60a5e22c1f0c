"""API Fetch end to end on the real dev server: sandbox REST source → Jolt → HTTP target."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    STYLES,
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
