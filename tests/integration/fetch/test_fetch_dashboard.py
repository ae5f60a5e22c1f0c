"""A finished fetch run shows on the metrics dashboard's data (client/insights.py): pages and
records per run, read back from the run's result, with its Web UI link."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from client.insights import InsightsCollector
from sandbox.serving import Served
from tests.integration.fetch.helpers import apply, definitions, run_once

pytestmark = pytest.mark.temporal


async def test_fetch_pages_and_records_per_run(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    defs = definitions(source.url, sink.url)
    name = await apply(client, defs, task_queue)
    result = await run_once(client, name)
    assert result.status == "done"
    ins = await InsightsCollector(client, defs).collect(60, name)
    [f] = ins.fetches
    assert f.name == name and f.configured
    assert f.totals["pages"] == result.counts.pages and f.totals["applied"] == result.counts.applied
    assert [p.status for p in f.points] == ["done"] and f.points[0].fetched == result.counts.fetched
    assert f.runs and f.runs[0].link.startswith("http://localhost:8233/namespaces/default/workflows/fetch")
