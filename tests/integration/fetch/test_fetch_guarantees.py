"""The API Fetch guarantees docs/fetch.md promises, each on the real dev server with the sandbox:
a permanent failure parks and resume loses nothing; the next run continues from the checkpoint,
boundary ties included; manual and scheduled runs share one checkpoint; one run at a time, and
cancel keeps the checkpoint; reset re-syncs from a value; a run-time limit ends cleanly; each
pagination style's guarantee under a changing source; per-record rejections are reported without
stopping the run; progress query and memo; continue-as-new keeps the state."""

from __future__ import annotations

import os
import uuid

import pytest
from temporalio.client import Client

from client import fetch_control as fc
from eventsync.fetch.models import FetchRunResult
from sandbox.serving import Served
from tests.integration.fetch.helpers import (
    admin,
    apply,
    assert_target_matches_source,
    definitions,
    eventually,
    progress,
    run_once,
    source_records,
    source_state,
    target_records,
)
from workflows.fetch import FetchWorkflow

pytestmark = pytest.mark.temporal


async def _slow_source(source: Served, delay_s: float = 0.3) -> None:
    await admin(
        source.url, "POST", "/_sandbox/faults", {"path": "/api/", "action": "delay", "delay_s": delay_s}
    )


async def _parked(client: Client, name: str) -> bool:
    found = [
        w.id
        async for w in client.list_workflows(
            f"EventsyncKind='fetch' AND EventsyncName='{name}' AND EventsyncStatus='parked'"
        )
    ]
    return bool(found)


# (c) a permanent failure parks the run with its checkpoint, visibly; resume continues it
@pytest.mark.parametrize("failure", ["source_credentials_revoked", "target_rejects_wholesale"])
async def test_permanent_failure_parks_then_resume_loses_nothing(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, failure: str
) -> None:
    env_var = f"FETCH_TEST_TOKEN_{uuid.uuid4().hex[:8]}"
    os.environ[env_var] = "good-token"
    await admin(source.url, "PUT", "/_sandbox/auth", {"kind": "bearer", "token": "good-token"})
    defs = definitions(source.url, sink.url, source_auth={"kind": "bearer", "token": f"${{env:{env_var}}}"})
    name = await apply(client, defs, task_queue)
    first = await run_once(client, name)
    assert first.status == "done"

    await admin(source.url, "POST", "/_sandbox/records", [{}, {}, {}])
    if failure == "source_credentials_revoked":
        await admin(source.url, "PUT", "/_sandbox/auth", {"kind": "bearer", "token": "rotated"})
    else:
        await admin(
            sink.url, "PUT", "/_sandbox/config", {"answer": {"status": 422, "body": {"error": "bad shape"}}}
        )
    handle = await fc.run_now(client, name)

    assert await eventually(lambda: _parked(client, name)), "the parked run is findable by search attribute"
    parked = await progress(client, name)
    assert parked.status == "parked"
    assert parked.checkpoint == first.carry.checkpoint  # nothing committed past the failure
    assert parked.last_error and ("401" in parked.last_error or "422" in parked.last_error)
    with pytest.raises(fc.FetchControlError, match="already running"):
        await fc.trigger(client, name)

    if failure == "source_credentials_revoked":
        await admin(source.url, "PUT", "/_sandbox/auth", {"kind": "bearer", "token": "good-token"})
    else:
        await admin(sink.url, "PUT", "/_sandbox/config", {})
    await fc.resume(client, name)
    result: FetchRunResult = await client.get_workflow_handle(handle.id, result_type=FetchRunResult).result()
    assert result.status == "done"
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))

    # (d) after a resumed run, the next run starts where it ended: only the boundary is re-read
    nxt = await run_once(client, name)
    assert nxt.counts.fetched <= 3  # the records sharing the last checkpoint value (ties=3)
    assert nxt.carry.checkpoint == result.carry.checkpoint


# (d) + (h): runs continue exactly where the previous ended, ties across page and run boundaries kept
@pytest.mark.parametrize("operator", [">=", ">"])
async def test_next_run_continues_and_boundary_ties_are_not_lost(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, operator: str
) -> None:
    style = {"request": {"connection": "src", "path": f"/api/page?lastUpdatedAt{operator}'{{{{since}}}}'"}}
    defs = definitions(
        source.url,
        sink.url,
        checkpoint={"operator": operator},
        limits={"max_pages": 2, "heartbeat_timeout_s": 3},
        **style,
    )
    name = await apply(client, defs, task_queue)
    # Pages of 4, values in threes: page 1 is t0 t0 t0 t1 and page 2 starts t1 t1 (ties across a
    # page boundary); two pages per run, so each run also ends inside a group (page 3 starts with t2).
    checkpoints = []
    for _ in range(30):
        result = await run_once(client, name)
        checkpoints.append(result.carry.checkpoint)
        if result.status == "done":
            break
        assert result.status == "max_pages"
    assert result.status == "done"
    assert checkpoints == sorted(checkpoints)
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))

    # A later manual run after new records reads only those and the boundary ties.
    await admin(source.url, "POST", "/_sandbox/records", [{}, {}])
    defs = definitions(source.url, sink.url, name=name, checkpoint={"operator": operator}, **style)
    await apply(client, defs, task_queue)
    latest = await run_once(client, name)
    assert latest.status == "done"
    assert 2 <= latest.counts.fetched <= 2 + 3
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


# (d) a scheduled run starts where the manual one ended
async def test_scheduled_run_continues_from_manual_run(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    name = await apply(client, definitions(source.url, sink.url), task_queue)
    manual = await run_once(client, name)
    assert manual.counts.fetched == 22
    await admin(source.url, "POST", "/_sandbox/records", [{}])
    defs = definitions(source.url, sink.url, name=name, schedule={"every_s": 1})
    await apply(client, defs, task_queue)
    seen = await fc.known_runs(client, name)

    async def scheduled_result() -> FetchRunResult | None:
        desc = await client.get_schedule_handle(f"fetch:{name}").describe()
        done = [a.action.workflow_id for a in desc.info.recent_actions if a.action.workflow_id not in seen]  # type: ignore[attr-defined]
        if not done or desc.info.running_actions:
            return None
        handle = client.get_workflow_handle(done[0], result_type=FetchRunResult)
        return await handle.result()

    scheduled = await eventually(scheduled_result, attempts=100)
    await fc.pause(client, name, "test over")
    assert scheduled is not None
    assert scheduled.counts.fetched <= 1 + 3  # the new record and the boundary ties, not everything
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


# (e) one run per fetch at a time; cancel ends it with its checkpoint
async def test_one_run_at_a_time_and_cancel_keeps_checkpoint(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    defs = definitions(source.url, sink.url)
    name = await apply(client, defs, task_queue)
    await _slow_source(source)
    handle = await fc.run_now(client, name)
    assert await eventually(lambda: _pages_done(client, name, 2))
    with pytest.raises(fc.FetchControlError, match="already running"):
        await fc.run_now(client, name)
    with pytest.raises(fc.FetchControlError, match="running"):
        await fc.reset(client, name, 0, defs.fetches[0])
    await fc.cancel(client, name)
    result: FetchRunResult = await client.get_workflow_handle(handle.id, result_type=FetchRunResult).result()
    assert result.status == "cancelled"
    assert result.carry.checkpoint is not None and result.counts.pages >= 2
    await admin(source.url, "DELETE", "/_sandbox/faults")
    rest = await run_once(client, name)
    assert rest.status == "done" and rest.counts.fetched < 22
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


async def _pages_done(client: Client, name: str, n: int) -> bool:
    p = await progress(client, name)
    return p is not None and p.counts.pages >= n


# (f) reset re-syncs from a value
async def test_reset_checkpoint_resyncs_from_value(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    defs = definitions(source.url, sink.url)
    name = await apply(client, defs, task_queue)
    assert (await run_once(client, name)).counts.fetched == 22
    src = await source_records(source.url)
    value = src[10]["updatedAt"]
    await fc.reset(client, name, value, defs.fetches[0])
    again = await run_once(client, name)
    expected = [r for r in src.values() if r["updatedAt"] >= value]
    assert again.counts.fetched == len(expected)
    assert (await run_once(client, name)).counts.fetched <= 3  # the reset applied once
    await fc.reset(client, name, None, defs.fetches[0])
    assert (await run_once(client, name)).counts.fetched == 22


# (g) the run time limit ends a run cleanly with its checkpoint saved; the next run continues
@pytest.mark.parametrize("sorted_source", [True, False])
async def test_run_time_limit_ends_cleanly_and_next_run_continues(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served, sorted_source: bool
) -> None:
    defs = definitions(
        source.url,
        sink.url,
        checkpoint={"sorted": sorted_source},
        limits={"run_time_limit_s": 0.5, "heartbeat_timeout_s": 3},
    )
    name = await apply(client, defs, task_queue)
    await _slow_source(source, 0.2)
    statuses = []
    for _ in range(20):
        result = await run_once(client, name)
        statuses.append(result.status)
        if result.status == "done":
            break
        if sorted_source:
            assert result.carry.checkpoint is not None and result.carry.resume is None
        else:
            assert result.carry.resume is not None  # the unsorted pass continues where it stopped
    assert statuses[0] == "time_limit" and statuses[-1] == "done"
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


# (i) a source changing during the run: the documented guarantee per pagination style
@pytest.mark.parametrize(
    ("style", "churn"),
    [
        ("cursor", {"modify": 1, "add": 1}),
        ("next_url", {"modify": 1, "add": 1}),
        ("offset_safe", {"modify": 1, "add": 1}),
        ("page_number", {"add": 1}),  # positional styles: guaranteed only while the source appends
        ("offset", {"add": 1}),
        ("link_header", {"add": 1}),
    ],
)
async def test_changing_source_guarantee_per_style(
    client: Client,
    task_queue: str,
    worker: None,
    source: Served,
    sink: Served,
    style: str,
    churn: dict[str, int],
) -> None:
    name = await apply(client, definitions(source.url, sink.url, style=style), task_queue)
    await admin(source.url, "PUT", "/_sandbox/churn", {"every_requests": 2, **churn})
    during = await run_once(client, name)
    assert during.status == "done"
    changed = await source_state(source.url)
    assert changed["count"] > 22 or churn.get("modify")
    await admin(source.url, "PUT", "/_sandbox/churn", {"every_requests": 0})
    after = await run_once(client, name)  # the next run picks up what changed after the last page
    assert after.status == "done"
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))


async def test_per_record_rejections_are_reported_and_do_not_stop_the_run(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    await admin(
        sink.url,
        "PUT",
        "/_sandbox/config",
        {"reject": [{"field": "id", "equals": 5, "error": "invalid email"}]},
    )
    name = await apply(client, definitions(source.url, sink.url), task_queue)
    result = await run_once(client, name)
    assert result.status == "done"
    assert result.counts.rejected == 1 and result.counts.applied == 21
    assert result.counts.rejections[0].key == "5" and "invalid email" in result.counts.rejections[0].reason
    st = await fc.status(client, name)
    assert st.last is not None and st.last.counts.rejected == 1


async def test_progress_query_and_memo(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    name = await apply(client, definitions(source.url, sink.url), task_queue)
    await _slow_source(source, 0.2)
    handle = await fc.run_now(client, name)
    assert await eventually(lambda: _pages_done(client, name, 1))
    p = await handle.query(FetchWorkflow.progress)
    assert p.status == "running" and p.name == name
    await admin(source.url, "DELETE", "/_sandbox/faults")
    await handle.result()
    desc = await handle.describe()
    memo = await desc.memo()
    assert "done" in memo["summary"] and "22 applied" in memo["summary"]


async def test_long_run_continues_as_new_and_keeps_its_state(
    client: Client, task_queue: str, worker: None, source: Served, sink: Served
) -> None:
    # The session's dev server suggests continue-as-new at 200 history events; one record per
    # page, one page per activity and 50 pages cross it.
    await admin(source.url, "POST", "/_sandbox/records", [{}] * 28)
    defs = definitions(
        source.url,
        sink.url,
        pagination={"style": "page_number", "base": 1, "size": 1},
        limits={"pages_per_activity": 1},
    )
    name = await apply(client, defs, task_queue)
    handle = await fc.run_now(client, name)
    result: FetchRunResult = await client.get_workflow_handle(handle.id, result_type=FetchRunResult).result()
    assert result.status == "done" and result.counts.fetched == 50 and result.counts.pages == 51

    async def continued() -> bool:
        return len([w async for w in client.list_workflows(f"WorkflowId='{handle.id}'")]) >= 2

    assert await eventually(continued), "the run continued as new"
    assert_target_matches_source(await target_records(sink.url), await source_records(source.url))
