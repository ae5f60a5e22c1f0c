"""Shared set-up for the API Fetch integration tests: the sandbox REST source and a webhook
receiver as the generic HTTP target, definitions pointing at them, and target bookkeeping."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from temporalio.client import Client

from activities import context
from client import fetch_control as fc
from client.schedules import put_schedule, run_input
from eventsync.definitions import Definitions
from eventsync.fetch.models import FetchRunResult
from workflows.fetch import FetchWorkflow

STYLES: dict[str, dict[str, Any]] = {
    "page_number": {
        "path": "/api/page",
        "query": {"lastUpdatedAt>'{{since}}'": "", "page": "{{page}}", "count": "{{count}}"},
        "pagination": {"style": "page_number", "base": 1, "size": 4},
        "records": "$.elements",
    },
    "offset": {
        "path": "/api/offset",
        "pagination": {"style": "offset", "limit": 4},
        "records": "$.items",
    },
    "offset_safe": {
        "path": "/api/offset",
        "pagination": {"style": "offset", "limit": 4, "safe_mode": True},
        "records": "$.items",
    },
    "cursor": {
        "path": "/api/cursor",
        "query": {"limit": "4"},
        "pagination": {"style": "cursor", "cursor_path": "$.cursors.next", "cursor_param": "cursor"},
        "records": "$.data",
    },
    "next_url": {
        "path": "/api/next",
        "query": {"limit": "4"},
        "pagination": {"style": "next_url", "next_url_path": "$.next"},
        "records": "$.results",
    },
    "link_header": {
        "path": "/api/link",
        "query": {"per_page": "4"},
        "pagination": {"style": "link_header"},
        "records": "$[*]",
    },
}


def definitions(
    source_url: str,
    sink_url: str,
    *,
    style: str = "page_number",
    name: str | None = None,
    source_auth: dict[str, Any] | None = None,
    **overrides: Any,
) -> Definitions:
    """A fetch of the sandbox source (filtered `updatedAt >= checkpoint`, ascending) into the
    webhook receiver, with a small Jolt chain."""
    s = STYLES[style]
    query = dict(s.get("query", {}))
    # The sandbox takes Eloqua-style filters as bare query keys; the path carries it.
    query.pop("lastUpdatedAt>'{{since}}'", None)
    fetch: dict[str, Any] = {
        "name": name or f"t-{uuid.uuid4().hex[:10]}",
        "request": {
            "connection": "src",
            "path": s["path"] + "?lastUpdatedAt>='{{since}}'",
            "query": query,
        },
        "pagination": s["pagination"],
        "records": s["records"],
        "checkpoint": {
            "field": "$.updatedAt",
            "type": "datetime",
            "variable": "since",
            "initial": 0,
            "format": "epoch",
            "operator": ">=",
            "sorted": True,
        },
        "transform": [
            {
                "operation": "shift",
                "spec": {
                    "id": "id",
                    "email": "profile.email",
                    "name": {"first": "profile.firstName", "last": "profile.lastName"},
                    "updatedAt": "updatedAt",
                    "tags": "tags",
                },
            }
        ],
        "target": {"kind": "http", "connection": "sink", "path": "/ingest", "chunk_size": 3},
        "limits": {"heartbeat_timeout_s": 3, "page_timeout_s": 20},
        "retry": {"initial_interval_s": 0.2, "maximum_interval_s": 1, "maximum_attempts": 3},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(fetch.get(key), dict):
            fetch[key] = {**fetch[key], **value}
        else:
            fetch[key] = value
    src: dict[str, Any] = {"name": "src", "base_url": source_url}
    if source_auth:
        src["auth"] = source_auth
    return Definitions.model_validate(
        {"connections": [src, {"name": "sink", "base_url": sink_url}], "fetches": [fetch]}
    )


async def apply(client: Client, defs: Definitions, task_queue: str) -> str:
    """`eventsync apply` for the test's fetch, and the same definitions for the in-process worker
    polling `task_queue` (as `eventsync worker -d` would load them)."""
    fetch = defs.fetches[0]
    context.register(task_queue, defs)
    await put_schedule(client, fetch, run_input(defs, fetch), task_queue)
    return fetch.name


def write_definitions(defs: Definitions, path: Any) -> Any:
    """`defs` as a definitions file, for a worker process (`eventsync worker -d PATH`)."""
    path.write_text(json.dumps(defs.model_dump(mode="json", exclude_unset=True)))  # JSON is YAML
    return path


async def run_once(client: Client, name: str, timeout: float = 60) -> FetchRunResult:
    handle = await fc.run_now(client, name)
    typed = client.get_workflow_handle(handle.id, result_type=FetchRunResult)
    try:
        return await asyncio.wait_for(typed.result(), timeout)
    except TimeoutError:
        p = await typed.query(FetchWorkflow.progress)
        raise AssertionError(f"run {handle.id} did not end: {p.status}, last error {p.last_error}") from None


async def target_records(sink_url: str) -> dict[int, dict[str, Any]]:
    """What the target holds: the last version of each record sent to it (it upserts by id)."""
    async with httpx.AsyncClient(base_url=sink_url) as http:
        reqs = (await http.get("/_sandbox/requests", params={"path": "/ingest"})).json()["requests"]
    held: dict[int, dict[str, Any]] = {}
    for r in reqs:
        if r["status"] and r["status"] < 300 and isinstance(r["json"], list):
            for rec in r["json"]:
                held[int(rec["id"])] = rec
    return held


async def source_records(source_url: str) -> dict[int, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=source_url) as http:
        return {r["id"]: r for r in (await http.get("/_sandbox/records")).json()["records"]}


async def source_state(source_url: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=source_url) as http:
        data: dict[str, Any] = (await http.get("/_sandbox/state")).json()
        return data


async def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=url) as http:
        resp = await http.request(method, path, json=body)
        resp.raise_for_status()
        return resp.json()


def assert_target_matches_source(held: dict[int, dict[str, Any]], source: dict[int, dict[str, Any]]) -> None:
    assert sorted(held) == sorted(source)
    for rid, rec in source.items():
        assert held[rid]["updatedAt"] == rec["updatedAt"], f"record {rid} is stale in the target"


async def eventually(check: Any, attempts: int = 100, delay: float = 0.1) -> Any:
    """Poll an async predicate (visibility and schedules are eventually consistent)."""
    last = None
    for _ in range(attempts):
        last = await check()
        if last:
            return last
        await asyncio.sleep(delay)
    return last


async def progress(client: Client, name: str) -> Any:
    """What `eventsync fetch status` shows of the running run (the workflow's state plus the
    pages its running activity has committed), or None."""
    run = await fc.running_run(client, name)
    return None if run is None else await fc.progress(run, client)
