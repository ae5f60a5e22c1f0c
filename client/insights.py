"""What the metrics dashboard and `eventsync insights` show, read from Temporal itself.

Signal flows: counts per minute, what is pending and the retry queue come from the event store
(eventsync/store), where receivers and delivery loops write them, so they are the same whichever
receiver serves the page, survive any restart, and answer whatever state a workflow is in; a
visibility list by search attributes adds the shard runs and their Web UI links. Fetch runs
answer their `progress` query while running and carry their counts in their result once done.
The telemetry meters (per process, reset on restart) are for Prometheus, not for this page.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from eventsync.definitions import Definitions
from eventsync.flows.timeline import BUCKET_S, COUNTED, Bucket, merge
from eventsync.store import EventStore, open_store
from eventsync.store.watch import in_thread
from workflows import search_attributes as sa

WEB_UI_ENV = "EVENTSYNC_WEB_UI_URL"
DEFAULT_WEB_UI = "http://localhost:8233"
MAX_RUNS_LISTED = 500  # visibility rows read per kind and request
RUNS_SHOWN = 10
# A shard whose worker is gone answers nothing until this runs out: short, so one dead task
# queue costs a page a few seconds, not a minute (the page names the shards that did not answer).
QUERY_TIMEOUT = timedelta(seconds=3)
RESULT_CACHE = 2_000
FETCH_COUNTS = ("pages", "fetched", "applied", "rejected")

_STATUS = {
    WorkflowExecutionStatus.RUNNING: "running",
    WorkflowExecutionStatus.COMPLETED: "completed",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.CANCELED: "cancelled",
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CONTINUED_AS_NEW: "continued-as-new",
    WorkflowExecutionStatus.TIMED_OUT: "timed-out",
}


class Run(BaseModel):
    workflow_id: str
    run_id: str
    status: str  # execution status; `state` is what the workflow itself says (parked, done …)
    state: str = ""
    started: float
    closed: float | None = None
    link: str


class ParkedRow(BaseModel):
    flow: str
    shard: int
    record: str
    since: float
    event_id: str
    attempts: int
    reason: str


class FlowInsight(BaseModel):
    name: str
    account: str = ""
    destination: str = ""
    configured: bool = True
    totals: dict[str, int] = Field(default_factory=dict)  # within the window
    skipped_by: dict[str, int] = Field(default_factory=dict)  # within the window
    timeline: list[Bucket] = Field(default_factory=list)
    pending: int = 0  # queued in running shards now
    parked: list[ParkedRow] = Field(default_factory=list)  # the retry queue now
    shards_running: int = 0
    runs: list[Run] = Field(default_factory=list)  # the latest, newest first
    problems: list[str] = Field(default_factory=list)


class FetchPoint(BaseModel):
    t: float  # run start
    status: str
    pages: int = 0
    fetched: int = 0
    applied: int = 0
    rejected: int = 0


class FetchInsight(BaseModel):
    name: str
    configured: bool = True
    totals: dict[str, int] = Field(default_factory=dict)
    points: list[FetchPoint] = Field(default_factory=list)  # one per run in the window, oldest first
    runs: list[Run] = Field(default_factory=list)
    parked: int = 0  # runs waiting for `resume`
    problems: list[str] = Field(default_factory=list)


class Insights(BaseModel):
    generated_at: float
    namespace: str
    window_minutes: int
    since: float
    bucket_s: int = BUCKET_S
    web_ui: str
    totals: dict[str, int]  # the account-wide rollup of every flow, within the window
    by_account: dict[str, dict[str, int]]
    by_destination: dict[str, dict[str, int]]
    retry_queue_size: int
    definitions_loaded: bool  # without them, flows are known only from their runs
    flows: list[FlowInsight]
    fetches: list[FetchInsight]


def web_ui_base() -> str:
    return os.environ.get(WEB_UI_ENV, DEFAULT_WEB_UI).rstrip("/")


def _q(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ts(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt else None


class InsightsCollector:
    """Reads insights from Temporal; one per process (it caches finished runs' results)."""

    def __init__(
        self,
        client: Client | Callable[[], Client],
        definitions: Definitions | None = None,
        web_ui: str | None = None,
        store: EventStore | None = None,
    ) -> None:
        self.store = store or open_store()
        self._client = client
        self.definitions = definitions
        self.web_ui = (web_ui or web_ui_base()).rstrip("/")
        self._results: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._sem = asyncio.Semaphore(64)

    @property
    def client(self) -> Client:
        c = self._client
        return c if isinstance(c, Client) else c()

    def link(self, workflow_id: str, run_id: str) -> str:
        ns = quote(self.client.namespace, safe="")
        return f"{self.web_ui}/namespaces/{ns}/workflows/{quote(workflow_id, safe='')}/{run_id}"

    # ---- reading Temporal -----------------------------------------------------------------------

    async def _list(self, kind: str, since: float, name: str | None = None) -> list[WorkflowExecution]:
        iso = datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = f"EventsyncKind={_q(kind)} AND (ExecutionStatus='Running' OR CloseTime > {_q(iso)})"
        if name is not None:
            query += f" AND EventsyncName={_q(name)}"
        elif self.definitions is not None:
            # A deployment's dashboard shows its own flows and fetches: a namespace shared with
            # other deployments (or old, worker-less runs) must not slow it down.
            names = [f.name for f in (self.definitions.flows if kind == "flow" else self.definitions.fetches)]
            if kind == "flow" and self.definitions.touchpoint is not None:
                names.append(self.definitions.touchpoint.name)
            if not names:
                return []
            query += f" AND EventsyncName IN ({', '.join(_q(n) for n in names)})"
        out: list[WorkflowExecution] = []
        async for wf in self.client.list_workflows(query, limit=MAX_RUNS_LISTED):
            out.append(wf)
        return out

    async def _result(self, wf: WorkflowExecution, result_type: type | None) -> Any:
        key = (wf.id, wf.run_id)
        if key in self._results:
            self._results.move_to_end(key)
            return self._results[key]
        handle = self.client.get_workflow_handle(wf.id, run_id=wf.run_id, result_type=result_type)
        async with self._sem:
            value = await handle.result(follow_runs=False, rpc_timeout=QUERY_TIMEOUT)
        self._results[key] = value
        while len(self._results) > RESULT_CACHE:
            self._results.popitem(last=False)
        return value

    async def _fetch_state(self, wf: WorkflowExecution) -> dict[str, Any] | None:
        if wf.status == WorkflowExecutionStatus.RUNNING:
            async with self._sem:
                got = await self.client.get_workflow_handle(wf.id, run_id=wf.run_id).query(
                    "progress", rpc_timeout=QUERY_TIMEOUT
                )
        elif wf.status == WorkflowExecutionStatus.COMPLETED:
            got = await self._result(wf, None)
        else:
            return None
        return got if isinstance(got, dict) else None

    def _run(self, wf: WorkflowExecution) -> Run:
        return Run(
            workflow_id=wf.id,
            run_id=wf.run_id,
            status=_STATUS.get(wf.status, "unknown") if wf.status else "unknown",
            state=wf.typed_search_attributes.get(sa.STATUS) or "",
            started=wf.start_time.timestamp(),
            closed=_ts(wf.close_time),
            link=self.link(wf.id, wf.run_id),
        )

    # ---- assembling -----------------------------------------------------------------------------

    async def collect(self, minutes: int = 60, name: str | None = None) -> Insights:
        """Everything in the window; with `name`, only the flow or fetch of that name."""
        if minutes < 1 or minutes > 7 * 24 * 60:
            raise ValueError(f"minutes must be between 1 and {7 * 24 * 60}, got {minutes}")
        now = time.time()
        since = now - minutes * 60
        flow_runs, fetch_runs = await asyncio.gather(
            self._list("flow", since, name), self._list("fetch", since, name)
        )
        flows = await self._flows(flow_runs, since)
        fetches = await self._fetches(fetch_runs, since)
        if name is not None:
            flows = [f for f in flows if f.name == name]
            fetches = [f for f in fetches if f.name == name]
        totals = _zero()
        by_account: dict[str, dict[str, int]] = {}
        by_dest: dict[str, dict[str, int]] = {}
        for f in flows:
            for k, v in f.totals.items():
                totals[k] += v
                by_account.setdefault(f.account or "?", _zero())[k] += v
                by_dest.setdefault(f.destination or "?", _zero())[k] += v
        return Insights(
            generated_at=now,
            namespace=self.client.namespace,
            window_minutes=minutes,
            since=since,
            web_ui=self.web_ui,
            totals=totals,
            by_account=by_account,
            by_destination=by_dest,
            retry_queue_size=sum(len(f.parked) for f in flows),
            definitions_loaded=self.definitions is not None,
            flows=flows,
            fetches=fetches,
        )

    async def _flows(self, runs: list[WorkflowExecution], since: float) -> list[FlowInsight]:
        out: dict[str, FlowInsight] = {}
        for fd in self.definitions.flows if self.definitions else []:
            out[fd.name] = FlowInsight(
                name=fd.name,
                account=fd.source.account,
                destination=f"{fd.destination.kind}:{fd.destination.connection}",
            )
        touchpoint = self.definitions.touchpoint if self.definitions else None
        if touchpoint is not None:  # a Signal flow of its own, declared by the touchpoint block
            out[touchpoint.name] = FlowInsight(
                name=touchpoint.name, account=touchpoint.account, destination=f"touchpoint:{touchpoint.connection}"
            )
        by_name: dict[str, list[WorkflowExecution]] = {n: [] for n in out}
        for wf in runs:
            name = wf.typed_search_attributes.get(sa.NAME) or "?"
            by_name.setdefault(name, []).append(wf)
            if name not in out:
                account = wf.typed_search_attributes.get(sa.ACCOUNT) or ""
                out[name] = FlowInsight(name=name, account=account, configured=False)
        for name, wfs in by_name.items():
            await self._fill_flow(out[name], wfs, since)
        return sorted(out.values(), key=lambda f: f.name)

    async def _fill_flow(self, fi: FlowInsight, wfs: list[WorkflowExecution], since: float) -> None:
        rows, pending, parked = await asyncio.gather(
            in_thread(self.store.counts, fi.name, since),
            in_thread(self.store.pending, fi.name),
            in_thread(self.store.parked, fi.name, None, 1000),
        )
        fi.timeline = buckets_of(rows, since)
        fi.pending = pending
        fi.parked = [
            ParkedRow(flow=fi.name, shard=p.shard, record=p.record_key, since=p.since, event_id=p.event_id,
                      attempts=p.attempts, reason=p.reason)
            for p in parked
        ]
        fi.shards_running = sum(1 for wf in wfs if wf.status == WorkflowExecutionStatus.RUNNING)
        fi.totals = _zero()
        for b in fi.timeline:
            for k in COUNTED:
                fi.totals[k] += getattr(b, k)
            for r, n in b.skipped_by.items():
                fi.skipped_by[r] = fi.skipped_by.get(r, 0) + n
        fi.runs = [self._run(wf) for wf in sorted(wfs, key=lambda w: w.start_time, reverse=True)][:RUNS_SHOWN]

    async def _fetches(self, runs: list[WorkflowExecution], since: float) -> list[FetchInsight]:
        out: dict[str, FetchInsight] = {}
        for fd in getattr(self.definitions, "fetches", None) or []:
            name = getattr(fd, "name", None)
            if isinstance(name, str):
                out[name] = FetchInsight(name=name)
        by_name: dict[str, list[WorkflowExecution]] = {}
        for wf in runs:
            name = wf.typed_search_attributes.get(sa.NAME) or "?"
            by_name.setdefault(name, []).append(wf)
            out.setdefault(name, FetchInsight(name=name, configured=False))
        for name, wfs in by_name.items():
            fi = out[name]
            states = await asyncio.gather(*(self._fetch_state(wf) for wf in wfs), return_exceptions=True)
            fi.totals = dict.fromkeys(FETCH_COUNTS, 0)
            for wf, st in zip(wfs, states, strict=True):
                if isinstance(st, BaseException):
                    fi.problems.append(f"{wf.id}: no answer ({type(st).__name__}); is a worker running?")
                    continue
                if wf.typed_search_attributes.get(sa.STATUS) == "parked":
                    fi.parked += 1
                if st is None:
                    continue
                counts = st.get("counts") or {}
                point = FetchPoint(
                    t=wf.start_time.timestamp(),
                    status=str(st.get("status") or ""),
                    **{k: int(counts.get(k) or 0) for k in FETCH_COUNTS},
                )
                fi.points.append(point)
                for k in FETCH_COUNTS:
                    fi.totals[k] += getattr(point, k)
            fi.points.sort(key=lambda p: p.t)
            fi.runs = [self._run(wf) for wf in sorted(wfs, key=lambda w: w.start_time, reverse=True)][
                :RUNS_SHOWN
            ]
        return sorted(out.values(), key=lambda f: f.name)


def buckets_of(rows: list[tuple[int, str, str, int]], since: float) -> list[Bucket]:
    """The store's (minute, counter, reason, n) rows as the dashboard's per-minute buckets."""
    by_t: dict[int, Bucket] = {}
    for t, name, reason, n in rows:
        b = by_t.setdefault(t, Bucket(t=t))
        if name == "skipped_by":
            b.skipped_by[reason] = b.skipped_by.get(reason, 0) + n
        elif name in COUNTED:
            setattr(b, name, getattr(b, name) + n)
    return merge([sorted(by_t.values(), key=lambda b: b.t)], since)


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTED, 0)


def slotted(
    buckets: list[Bucket], since: float, now: float, max_slots: int = 60
) -> tuple[list[float], list[dict[str, int]]]:
    """The window cut into at most `max_slots` equal slots (whole minutes), buckets summed in."""
    span = max(BUCKET_S, now - since)
    slot = max(BUCKET_S, -(-int(span) // max_slots // BUCKET_S) * BUCKET_S)
    first = int(since) - int(since) % slot
    starts = [float(t) for t in range(first, int(now) + 1, slot)]
    rows: list[dict[str, int]] = [dict.fromkeys(COUNTED, 0) for _ in starts]
    for b in buckets:
        i = (b.t - first) // slot
        if 0 <= i < len(rows):
            for k in COUNTED:
                rows[i][k] += getattr(b, k)
    return starts, rows


__all__ = ["InsightsCollector", "Insights", "FlowInsight", "FetchInsight", "Run", "ParkedRow", "slotted"]
