"""Nothing re-sent that did not change (issue 16 item 8, first part): the checkpoint keeps the
identities of the records at its high-water mark, so the next run reads those ties again (the
filter is `>=`: a tie is never skipped) but applies only the ones that changed. Counted at the
emulators: the webhook target's upsert requests."""

from __future__ import annotations

import pytest
from temporalio.client import Client

from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    run_once,
    source_records,
    target_records,
)

pytestmark = pytest.mark.temporal


async def _upserts(sink: Served) -> int:
    reqs = (await admin(sink.url, "GET", "/_sandbox/requests", None))["requests"]
    return sum(len(r["json"]) for r in reqs if r["path"] == "/ingest" and isinstance(r["json"], list))


@pytest.mark.parametrize("operator", [">=", ">"])
async def test_an_idle_source_applies_nothing_and_a_changed_tie_is_applied(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, operator: str
) -> None:
    # The source's own filter says the same as the definition's `operator`.
    path = f"/api/page?lastUpdatedAt{operator}'{{{{since}}}}'"
    defs = definitions(
        source.url, sink.url, checkpoint={"operator": operator}, request={"connection": "src", "path": path}
    )
    name = await apply(client, defs, task_queue)
    first = await run_once(client, name)
    assert first.counts.applied == 22 and await _upserts(sink) == 22
    assert len(first.carry.boundary) == 1  # 22 records in ties of 3: the last value holds one

    for _ in range(2):  # idle, twice: the tie at the checkpoint is read, not applied
        idle = await run_once(client, name)
        assert idle.status == "done" and idle.counts.applied == 0, idle.counts
        assert idle.counts.fetched >= 1 and idle.counts.unchanged == idle.counts.fetched
        assert await _upserts(sink) == 22

    # A record at the checkpoint changes without its timestamp moving: it is applied, alone.
    src = await source_records(source.url)
    top = max(src.values(), key=lambda r: (r["updatedAt"], r["id"]))
    await admin(source.url, "PATCH", f"/_sandbox/records/{top['id']}", {"email": "changed@example.com", "updatedAt": top["updatedAt"]})  # fmt: skip
    changed = await run_once(client, name)
    assert changed.counts.applied == 1 and await _upserts(sink) == 23
    assert (await target_records(sink.url))[top["id"]]["profile"]["email"] == "changed@example.com"

    # A new record: exactly it is applied.
    await admin(source.url, "POST", "/_sandbox/records", [{}])
    new = await run_once(client, name)
    assert new.counts.applied == 1 and await _upserts(sink) == 24
    assert (await run_once(client, name)).counts.applied == 0
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
