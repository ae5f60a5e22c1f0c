"""The metrics dashboard (the seed product's Metrics Dashboard and Account Insights): read-only.

`dashboard_router(client, definitions)` is mounted by the webhook receiver's `create_app`, so
`eventsync serve` serves it at `/dashboard`:

- `GET /dashboard` — the page: account-wide rollup, then per flow counts over time (inline SVG),
  skips by reason, the retry queue, the last runs linked into the Temporal Web UI; per fetch
  pages and records per run. It refreshes itself every 30 s (no script).
- `GET /dashboard/api/insights` — the same as JSON (`client.insights.Insights`).
- `GET /dashboard/api/flows/{name}`, `/dashboard/api/fetches/{name}`, `/dashboard/api/retry-queue`.

Every endpoint takes `?minutes=` (the window, default 60); the page and `/api/insights` also
`?name=` (one flow or fetch). Data comes from Temporal (see
client/insights.py); nothing is stored here.

The page shares the receiver's port, which faces the platform, and shows personal data (retry
reasons quote vendor bodies), so it fails closed: it is served only with
`EVENTSYNC_DASHBOARD_TOKEN` (or `EVENTSYNC_DASHBOARD_TOKEN_FILE`) set, and then needs that token as `Authorization: Bearer TOKEN`,
`?token=TOKEN`, or HTTP Basic (any user name, the token as password; a browser prompts once).
Without a token it is not mounted, unless `EVENTSYNC_DASHBOARD=open` (a loopback-only port,
`eventsync dev`); `EVENTSYNC_DASHBOARD=off` leaves it out always. Insights are cached a few
seconds, so anonymous load cannot fan out to Temporal (docs/security.md).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from temporalio.client import Client

from client.charts import bar_chart
from client.insights import FetchInsight, FlowInsight, Insights, InsightsCollector, ParkedRow, Run, slotted
from eventsync.definitions import Definitions
from eventsync.settings import env_or_file

TOKEN_ENV = "EVENTSYNC_DASHBOARD_TOKEN"
TOKEN_FILE_ENV = "EVENTSYNC_DASHBOARD_TOKEN_FILE"  # the token from a file (a mounted Secret)
SWITCH_ENV = "EVENTSYNC_DASHBOARD"
FLOW_SERIES = ("received", "delivered", "skipped", "parked")
FETCH_SERIES = ("pages", "fetched", "applied", "rejected")
Minutes = Annotated[int, Query(ge=1, le=7 * 24 * 60, description="the window, in minutes")]
OnlyName = Annotated[str | None, Query(alias="name", description="only the flow or fetch of this name")]

STYLE = """
body{font:14px system-ui,sans-serif;margin:0 24px 40px;color:#111827;background:#f9fafb}
h1{font-size:20px;margin:16px 0 4px} h2{font-size:17px;margin:28px 0 6px} h3{font-size:14px;margin:14px 0 4px}
.muted{color:#6b7280} .tiles{display:flex;gap:10px;flex-wrap:wrap;margin:8px 0}
.tile{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px 12px;min-width:90px}
.tile b{display:block;font-size:20px} section{background:#fff;border:1px solid #e5e7eb;border-radius:8px;
padding:4px 16px 12px;margin:14px 0} table{border-collapse:collapse;margin:4px 0}
td,th{border-bottom:1px solid #e5e7eb;padding:3px 10px 3px 0;text-align:left;font-size:13px}
figure{margin:6px 0} figcaption{font-size:12px;margin-bottom:2px} .key{margin-left:10px}
.key i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
.problem{color:#b91c1c} .bar{display:inline-block;height:10px;background:#ca8a04;vertical-align:middle}
"""


def _when(t: float | None) -> str:
    return "" if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _tiles(counts: dict[str, int], keys: tuple[str, ...], scope: str) -> str:
    return (
        '<div class="tiles">'
        + "".join(
            f'<div class="tile" data-scope="{escape(scope)}" data-count-of="{k}"><span class="muted">{k}</span>'
            f"<b>{counts.get(k, 0)}</b></div>"
            for k in keys
        )
        + "</div>"
    )


def _runs(runs: list[Run]) -> str:
    if not runs:
        return '<p class="muted">no runs in this window</p>'
    rows = "".join(
        f'<tr data-run="{escape(r.run_id)}"><td><a href="{escape(r.link)}" target="_blank" rel="noopener">'
        f"{escape(r.workflow_id)}</a></td><td>{escape(r.status)}</td><td>{escape(r.state)}</td>"
        f"<td>{_when(r.started)}</td><td>{_when(r.closed)}</td></tr>"
        for r in runs
    )
    return (
        "<table class='runs'><tr><th>workflow (Temporal Web UI)</th><th>execution</th><th>state</th>"
        f"<th>started (UTC)</th><th>closed</th></tr>{rows}</table>"
    )


def _parked(rows: list[ParkedRow]) -> str:
    if not rows:
        return '<p class="muted" data-retry-queue="0">retry queue empty</p>'
    body = "".join(
        f'<tr data-parked="{escape(p.record)}"><td>{escape(p.record)}</td><td>{p.shard}</td>'
        f"<td>{_when(p.since)}</td><td>{p.attempts}</td><td>{escape(p.reason)}</td></tr>"
        for p in rows
    )
    return (
        f'<table class="retry-queue" data-retry-queue="{len(rows)}"><tr><th>record</th><th>shard</th>'
        f"<th>parked since</th><th>attempts</th><th>reason</th></tr>{body}</table>"
    )


def _reasons(skipped_by: dict[str, int]) -> str:
    if not skipped_by:
        return ""
    peak = max(skipped_by.values())
    rows = "".join(
        f'<tr data-reason="{escape(r)}"><td>{escape(r)}</td><td>{n}</td>'
        f'<td><span class="bar" style="width:{max(2, 200 * n // peak)}px"></span></td></tr>'
        for r, n in sorted(skipped_by.items(), key=lambda kv: -kv[1])
    )
    return f"<h3>Skipped, by reason</h3><table class='reasons'>{rows}</table>"


def _flow(f: FlowInsight, ins: Insights) -> str:
    starts, rows = slotted(f.timeline, ins.since, ins.generated_at)
    problems = "".join(f'<p class="problem">{escape(p)}</p>' for p in f.problems)
    extra = (
        ""
        if f.configured or not ins.definitions_loaded
        else ' <span class="muted">(not in the loaded definitions)</span>'
    )
    return (
        f'<section class="flow" data-flow="{escape(f.name)}"><h2>Flow {escape(f.name)}{extra}</h2>'
        f'<p class="muted">account {escape(f.account or "?")} · destination {escape(f.destination or "?")}'
        f" · {f.shards_running} shard(s) running · {f.pending} event(s) queued</p>"
        + _tiles(f.totals, ("received", "activated", "skipped", "delivered", "parked", "discarded"), f.name)
        + bar_chart(f"{f.name}: events per slot", starts, rows, FLOW_SERIES)
        + problems
        + _reasons(f.skipped_by)
        + f"<h3>Retry queue ({len(f.parked)})</h3>"
        + _parked(f.parked)
        + "<h3>Last runs</h3>"
        + _runs(f.runs)
        + "</section>"
    )


def _fetch(f: FetchInsight) -> str:
    starts = [p.t for p in f.points]
    rows = [{k: getattr(p, k) for k in FETCH_SERIES} for p in f.points]
    chart = (
        bar_chart(f"{f.name}: per run", starts, rows, FETCH_SERIES, slot_label="run")
        if f.points
        else '<p class="muted">no runs with counts in this window</p>'
    )
    problems = "".join(f'<p class="problem">{escape(p)}</p>' for p in f.problems)
    return (
        f'<section class="fetch" data-fetch="{escape(f.name)}"><h2>Fetch {escape(f.name)}</h2>'
        f'<p class="muted">{f.parked} run(s) parked, waiting for resume</p>'
        + _tiles(f.totals, FETCH_SERIES, f.name)
        + chart
        + problems
        + "<h3>Last runs</h3>"
        + _runs(f.runs)
        + "</section>"
    )


def render(ins: Insights) -> str:
    rollup = "".join(
        f"<tr><td>{escape(group)}</td><td>{escape(k)}</td>"
        + "".join(f"<td>{c.get(s, 0)}</td>" for s in ("received", "delivered", "skipped", "parked"))
        + "</tr>"
        for group, table in (("account", ins.by_account), ("destination", ins.by_destination))
        for k, c in sorted(table.items())
    )
    body = "".join(_flow(f, ins) for f in ins.flows) or '<p class="muted">no flows</p>'
    fetches = "".join(_fetch(f) for f in ins.fetches)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>eventsync · metrics</title>
<meta http-equiv="refresh" content="30"><style>{STYLE}</style></head>
<body data-generated="{ins.generated_at:.0f}">
<h1>eventsync metrics</h1>
<p class="muted">namespace {escape(ins.namespace)} · last {ins.window_minutes} min (to {_when(ins.generated_at)} UTC)
· read from Temporal · <a href="?minutes=60">1 h</a> · <a href="?minutes=360">6 h</a> · <a href="?minutes=1440">24 h</a>
· <a href="{escape(ins.web_ui)}/namespaces/{escape(ins.namespace)}/workflows" target="_blank" rel="noopener">Temporal Web UI</a></p>
<h2>Account insights</h2>
{_tiles(ins.totals, ("received", "activated", "skipped", "delivered", "parked"), "all")}
<div class="tiles"><div class="tile" id="retry-queue-size" data-count-of="retry-queue">
<span class="muted">retry queue</span><b>{ins.retry_queue_size}</b></div></div>
<table class="rollup"><tr><th>by</th><th></th><th>received</th><th>delivered</th><th>skipped</th><th>parked</th></tr>
{rollup}</table>
{body}
{fetches}
</body></html>"""


CACHE_S = 5.0


def _guard(token: str | None) -> list[Any]:
    if not token:
        return []
    basic = HTTPBasic(realm="eventsync dashboard", auto_error=False)
    expected = token.encode()

    # (a default, not Annotated: the annotation is a string here and `basic` is local)
    def check(request: Request, creds: HTTPBasicCredentials | None = Depends(basic)) -> None:
        header = request.headers.get("authorization", "")
        given = [
            header[7:].strip() if header.lower().startswith("bearer ") else "",
            request.query_params.get("token", ""),
            creds.password if creds is not None else "",
        ]
        # Constant-time on every candidate, so timing does not say which one was tried.
        if not any([secrets.compare_digest(g.encode(), expected) for g in given]):
            raise HTTPException(
                401,
                "the dashboard needs the dashboard token",
                {"WWW-Authenticate": 'Basic realm="eventsync"'},
            )

    return [Depends(check)]


def token_from_env() -> str | None:
    """$EVENTSYNC_DASHBOARD_TOKEN, or the file named by $EVENTSYNC_DASHBOARD_TOKEN_FILE; None when
    neither is set (an unreadable or empty file is an error: a dashboard meant to be guarded must
    not come up open or silently absent)."""
    return env_or_file(TOKEN_ENV)


def dashboard_router(
    client: Client | Callable[[], Client],
    definitions: Definitions | None = None,
    web_ui: str | None = None,
    token: str | None = None,
) -> APIRouter:
    """`client` may be a callable, for apps that connect in their lifespan (the receiver).
    `token` defaults to $EVENTSYNC_DASHBOARD_TOKEN (none: open, as on a dev machine)."""
    collector = InsightsCollector(client, definitions, web_ui)
    switch = os.environ.get(SWITCH_ENV, "").lower()
    if switch in ("off", "0", "false", "no"):
        return APIRouter()
    token = token if token is not None else token_from_env()
    if not token and switch != "open":
        return APIRouter()  # fail closed: no token, no dashboard
    guard = _guard(token)
    router = APIRouter(prefix="/dashboard", tags=["dashboard"], dependencies=guard)
    cache: dict[tuple[int, str | None], tuple[float, Insights]] = {}

    async def collect(minutes: int, name: str | None = None) -> Insights:
        key, now = (minutes, name), time.monotonic()
        hit = cache.get(key)
        if hit is not None and now - hit[0] < CACHE_S:
            return hit[1]
        result = await collector.collect(minutes, name)
        if len(cache) > 256:
            cache.clear()
        cache[key] = (now, result)
        return result

    @router.get("", response_class=HTMLResponse)
    async def page(minutes: Minutes = 60, only: OnlyName = None) -> HTMLResponse:
        return HTMLResponse(render(await collect(minutes, only)))

    @router.get("/api/insights")
    async def insights(minutes: Minutes = 60, only: OnlyName = None) -> Insights:
        return await collect(minutes, only)

    @router.get("/api/flows/{name}")
    async def flow(name: str, minutes: Minutes = 60) -> FlowInsight:
        for f in (await collect(minutes, name)).flows:
            if f.name == name:
                return f
        raise HTTPException(404, f"no flow named {name!r} in the definitions or in Temporal")

    @router.get("/api/fetches/{name}")
    async def fetch(name: str, minutes: Minutes = 60) -> FetchInsight:
        for f in (await collect(minutes, name)).fetches:
            if f.name == name:
                return f
        raise HTTPException(404, f"no fetch named {name!r} in the definitions or in Temporal")

    @router.get("/api/retry-queue")
    async def retry_queue(minutes: Minutes = 60) -> dict[str, Any]:
        rows = [p for f in (await collect(minutes)).flows for p in f.parked]
        return {"size": len(rows), "records": [r.model_dump() for r in rows]}

    return router


__all__ = ["dashboard_router", "render"]
