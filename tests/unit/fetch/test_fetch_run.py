"""`FetchRun`, the pure state of one fetch run, without Temporal: what it commits, when it parks,
ends, resumes, and where the next run starts (issue 14 item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventsync.definitions.fetches import FetchDefinition
from eventsync.fetch import pagination
from eventsync.fetch.models import Counts, PageResult, Position, Rejection, ResetRequest
from eventsync.fetch.run import FetchRun, wholesale_rejection

T0 = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _defn(**over: Any) -> FetchDefinition:
    spec: dict[str, Any] = {
        "name": "f",
        "request": {"connection": "src", "path": "/api/page?since={{since}}"},
        "pagination": {"style": "page_number", "base": 1, "size": 4, "page_param": "page"},
        "records": "$.elements",
        "checkpoint": {"field": "$.n", "type": "number", "initial": 0, "variable": "since", "sorted": True},
        "target": {"kind": "http", "connection": "sink", "path": "/in"},
    }
    for key, value in over.items():
        spec[key] = {**spec[key], **value} if isinstance(value, dict) and key in spec else value
    return FetchDefinition.model_validate(spec)


def _page(next_page: int | None, high: int | None, n: int = 4, applied: int | None = None) -> PageResult:
    applied = n if applied is None else applied
    return PageResult(
        next=None if next_page is None else Position(page=next_page),
        high_water=high,
        counts=Counts(pages=1, fetched=n, applied=applied, rejected=n - applied),
    )


def test_each_landed_page_commits_its_counts_and_checkpoint_then_done() -> None:
    run = FetchRun.begin(_defn(), now=T0)
    assert run.state.position == Position(page=1) and run.state.window is None
    assert run.landed(_page(2, 10)) == "continue"
    assert run.state.carry.checkpoint == 10 and run.state.position == Position(page=2)
    assert run.landed(_page(3, 17)) == "continue"
    assert (run.state.carry.checkpoint, run.state.counts.pages, run.state.counts.applied) == (17, 2, 8)
    assert run.landed(_page(None, 20, n=2)) == "done"
    result = run.finish("done")
    assert result.carry.checkpoint == 20 and result.counts.fetched == 10 and result.carry.resume is None


def test_an_unsorted_source_holds_its_checkpoint_until_the_pagination_finishes() -> None:
    run = FetchRun.begin(_defn(checkpoint={"sorted": False}), now=T0)
    run.landed(_page(2, 30))
    assert run.state.carry.checkpoint is None and run.state.carry.pending_high == 30
    stopped = run.finish("time_limit")
    assert stopped.carry.checkpoint is None and stopped.carry.resume == Position(page=2)
    nxt = FetchRun.begin(_defn(checkpoint={"sorted": False}), now=T0, last=stopped)
    assert nxt.state.position == Position(page=2)  # the next run continues the same pass
    nxt.landed(_page(None, 12))
    assert nxt.finish("done").carry.checkpoint == 30


def test_a_page_the_target_rejects_wholesale_parks_and_a_resume_retries_it() -> None:
    run = FetchRun.begin(_defn(), now=T0)
    run.landed(_page(2, 10))
    counts = Counts(pages=1, fetched=4, applied=0, rejected=4, rejections=[Rejection(reason="bad email")])
    reason = wholesale_rejection(counts)
    assert reason is not None and "rejected every record of the page (4)" in reason and "bad email" in reason
    assert wholesale_rejection(Counts(pages=1, fetched=4, applied=3, rejected=1)) is None
    run.park(reason)
    assert run.status == "parked" and run.state.position == Position(page=2)
    assert run.state.carry.checkpoint == 10  # nothing of the rejected page is committed
    fixed = _defn(target={"path": "/fixed"})
    run.resume(fixed, previous="aaaa", current="bbbb")
    assert run.status == "running" and run.defn.target.path == "/fixed"
    assert run.state.position == Position(page=2)  # the same page again
    assert [(c.previous, c.current) for c in run.state.definition_changes] == [("aaaa", "bbbb")]
    assert run.next(T0) == "fetch"


def test_the_run_time_limit_ends_the_run_cleanly_and_bounds_each_group() -> None:
    run = FetchRun.begin(_defn(limits={"run_time_limit_s": 10, "pages_per_activity": 8}), now=T0)
    assert run.group(T0).pages == 8 and run.group(T0).budget_s == 10.0  # the slice, or the time left
    assert run.group(T0 + timedelta(seconds=9)).budget_s == pytest.approx(1.0)
    run.landed(_page(2, 5))
    assert run.next(T0 + timedelta(seconds=9.9)) == "fetch"
    assert run.next(T0 + timedelta(seconds=10)) == "time_limit"
    result = run.finish("time_limit")
    assert result.status == "time_limit" and result.carry.checkpoint == 5  # saved
    capped = FetchRun.begin(_defn(limits={"max_pages": 3, "pages_per_activity": 8}), now=T0)
    capped.landed(_page(2, 1))
    assert capped.group(T0).pages == 2 and capped.next(T0) == "fetch"
    capped.landed(_page(3, 2))
    capped.landed(_page(4, 3))
    assert capped.next(T0) == "max_pages"


def test_a_reset_applies_once_by_its_token() -> None:
    last = FetchRun.begin(_defn(), now=T0)
    last.landed(_page(None, 50))
    done = last.finish("done")
    reset = ResetRequest(token="t1", checkpoint=7)
    first = FetchRun.begin(_defn(), now=T0, last=done, reset=reset)
    assert first.state.window == 7 and first.state.carry.reset_token == "t1"
    first.landed(_page(None, 9))
    after = first.finish("done")
    again = FetchRun.begin(_defn(), now=T0, last=after, reset=reset)  # the schedule still carries it
    assert again.state.window == 9  # not 7 again: the token was consumed
    initial = FetchRun.begin(_defn(), now=T0, last=after, reset=ResetRequest(token="t2"))
    assert initial.state.window is None  # back to the definition's initial value


@pytest.mark.parametrize(("operator", "sent"), [(">=", "40"), (">", "39")])
def test_the_next_run_asks_again_for_records_tied_at_the_checkpoint(operator: str, sent: str) -> None:
    defn = _defn(checkpoint={"operator": operator, "step": 1})
    run = FetchRun.begin(defn, now=T0)
    run.landed(_page(None, 40))
    nxt = FetchRun.begin(defn, now=T0, last=run.finish("done"))
    assert nxt.state.window == 40
    # `>= 40` and `> 39` both return the records at 40 again: a tie is never skipped.
    request = pagination.prepare(defn, nxt.state.position, nxt.state.window)
    assert request.url.startswith(f"/api/page?since={sent}&"), request.url
