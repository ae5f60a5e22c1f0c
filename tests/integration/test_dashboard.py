"""The metrics dashboard and `eventsync insights` against a real stack: dev server, worker,
receiver (which mounts the dashboard), a sandbox webhook destination. Four deliveries, one skip,
one parked record; the page is loaded in a real headless Chromium."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client

from eventsync.definitions.flows import FlowDefinition
from sandbox.serving import Served
from tests.integration.signal.harness import destination, event, flow_def, post_event, receiver, wait_for
from tests.support.browser import chromium, pixel_spread, save
from worker.main import build_worker

# The dashboard fails closed (issue 13 item 3): the suite's receivers serve it with this token.
DASH_TOKEN = "dash-test-token"
os.environ["EVENTSYNC_DASHBOARD_TOKEN"] = DASH_TOKEN
AUTH = {"Authorization": f"Bearer {DASH_TOKEN}"}

SKIP_REASON_PART = "OTHER"  # the skipped event's event code, named in the rule that skipped it


@dataclass
class Stack:
    rx: Served
    flow: FlowDefinition
    client: Client


async def _until(check: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.3)
    raise AssertionError(f"condition never held; last: {last!r}")


@pytest_asyncio.fixture(scope="module")
async def stack(temporal_env: Any) -> AsyncIterator[Stack]:
    client: Client = temporal_env.client
    task_queue = f"dash-{os.getpid()}-{time.time_ns()}"
    with destination(reject=[{"field": "code", "equals": "P1", "status": 422}]) as dest:
        defs, flow = flow_def(
            dest.url,
            source={
                "account": "ACME",
                "events": ["registration.created", "registration.status_changed"],
                "event_codes": ["SUMMIT"],
            },
        )
        async with httpx.AsyncClient(timeout=30, headers=AUTH) as http, build_worker(client, task_queue):
            with receiver(client, defs, task_queue) as rx:
                skipped = event("S1", 0)
                skipped["eventCode"] = SKIP_REASON_PART
                for doc in (event("OK1", 0), event("OK1", 1), event("OK2", 0), event("OK3", 0)):
                    assert (await post_event(http, rx.url, doc)).status_code == 200
                for doc in (event("P1", 0), skipped):
                    assert (await post_event(http, rx.url, doc)).status_code == 200
                await wait_for(dest, lambda d: d.seqs("OK1") == [0, 1] and d.seqs("OK2") == [0])

                async def settled() -> bool:
                    r = await http.get(rx.url + f"/dashboard/api/flows/{flow.name}")
                    t = r.json()["totals"]
                    return bool(t["delivered"] == 4 and t["parked"] == 1 and t["skipped"] == 1)

                await _until(settled)
                yield Stack(rx=rx, flow=flow, client=client)


async def test_api_counts_retry_queue_runs_and_links(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30, headers=AUTH) as http:
        f = (await http.get(stack.rx.url + f"/dashboard/api/flows/{stack.flow.name}")).json()
        rq = (await http.get(stack.rx.url + "/dashboard/api/retry-queue")).json()
        all_ = (await http.get(stack.rx.url + "/dashboard/api/insights?minutes=30")).json()
        missing = await http.get(stack.rx.url + "/dashboard/api/flows/no-such-flow")
        bad = await http.get(stack.rx.url + "/dashboard/api/insights?minutes=0")
    t = f["totals"]
    assert (t["received"], t["activated"], t["delivered"], t["skipped"], t["parked"]) == (6, 4, 4, 1, 1)
    assert sum(b["delivered"] for b in f["timeline"]) == 4  # the chart's data adds up to the totals
    [(reason, n)] = f["skipped_by"].items()
    assert n == 1 and SKIP_REASON_PART in reason
    assert [p["record"] for p in f["parked"]] == ["P1"] and "422" in f["parked"][0]["reason"]
    assert rq["size"] >= 1 and "P1" in [r["record"] for r in rq["records"] if r["flow"] == stack.flow.name]
    assert f["runs"], "the shard runs are listed"
    for run in f["runs"]:
        assert run["link"] == (
            f"http://localhost:8233/namespaces/default/workflows/"
            f"{run['workflow_id'].replace('/', '%2F')}/{run['run_id']}"
        )
    assert stack.flow.name in [x["name"] for x in all_["flows"]] and all_["window_minutes"] == 30
    assert all_["retry_queue_size"] >= 1 and all_["totals"]["delivered"] >= 4
    assert missing.status_code == 404 and "no-such-flow" in missing.json()["detail"]
    assert bad.status_code == 422


def _browse(url: str, flow: str) -> dict[str, Any]:
    from selenium.webdriver.common.by import By

    with chromium() as driver:
        driver.get(url)  # type: ignore[attr-defined]
        section = driver.find_element(By.CSS_SELECTOR, f'section[data-flow="{flow}"]')  # type: ignore[attr-defined]
        tiles = {
            el.get_attribute("data-count-of"): int(el.find_element(By.TAG_NAME, "b").text)
            for el in section.find_elements(By.CSS_SELECTOR, ".tile")
        }
        bars: dict[str, int] = {}
        for rect in section.find_elements(By.CSS_SELECTOR, "svg.chart rect[data-series]"):
            s = rect.get_attribute("data-series") or ""
            bars[s] = bars.get(s, 0) + int(rect.get_attribute("data-count") or 0)
            assert rect.size["height"] > 0 and rect.size["width"] > 0  # drawn, not just in the markup
        chart = section.find_element(By.CSS_SELECTOR, "svg.chart")
        got = {
            "title": driver.title,  # type: ignore[attr-defined]
            "flows": [
                e.get_attribute("data-flow")
                for e in driver.find_elements(By.CSS_SELECTOR, "section[data-flow]")  # type: ignore[attr-defined]
            ],
            "tiles": tiles,
            "bars": bars,
            "chart_size": (chart.size["width"], chart.size["height"]),
            "parked": [
                e.get_attribute("data-parked")
                for e in section.find_elements(By.CSS_SELECTOR, "tr[data-parked]")
            ],
            "reasons": [
                e.get_attribute("data-reason")
                for e in section.find_elements(By.CSS_SELECTOR, "tr[data-reason]")
            ],
            "links": [
                e.get_attribute("href") for e in section.find_elements(By.CSS_SELECTOR, "table.runs a")
            ],
            "retry_queue": int(driver.find_element(By.CSS_SELECTOR, "#retry-queue-size b").text),  # type: ignore[attr-defined]
            "png": driver.get_screenshot_as_png(),  # type: ignore[attr-defined]
        }
        return got


@pytest.mark.slow
async def test_dashboard_page_in_headless_chromium(stack: Stack) -> None:
    # Selenium blocks: run it in a thread so this loop's worker keeps answering the page's queries.
    got = await asyncio.to_thread(_browse, stack.rx.url + f"/dashboard?minutes=60&token={DASH_TOKEN}", stack.flow.name)
    assert got["title"] == "eventsync · metrics"
    assert stack.flow.name in got["flows"]
    tiles = got["tiles"]
    assert (tiles["received"], tiles["delivered"], tiles["skipped"], tiles["parked"]) == (6, 4, 1, 1)
    assert got["bars"] == {"received": 6, "delivered": 4, "skipped": 1, "parked": 1}
    assert got["chart_size"][0] >= 600 and got["chart_size"][1] >= 150
    assert got["parked"] == ["P1"]
    assert len(got["reasons"]) == 1 and SKIP_REASON_PART in got["reasons"][0]
    assert got["links"] and all(
        link.startswith("http://localhost:8233/namespaces/default/workflows/signal%2F") for link in got["links"]
    )
    assert got["retry_queue"] >= 1
    path = save(got["png"], "dashboard.png")
    spread, colours = pixel_spread(got["png"])
    assert spread > 10 and colours > 8, (
        f"screenshot {path} looks blank (stdev {spread:.1f}, {colours} colours)"
    )


async def test_insights_command_prints_the_same(stack: Stack) -> None:
    env = {**os.environ, "TEMPORAL_ADDRESS": stack.client.service_client.config.target_host}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "client",
        "insights",
        "--flow",
        stack.flow.name,
        "--minutes",
        "60",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    text = out.decode()
    print(text)  # shown with -s: the sample in docs/operations.md
    assert proc.returncode == 0, err.decode()
    assert f"flow {stack.flow.name}" in text
    lines = {ln.split()[0]: ln.split() for ln in text.splitlines() if ln.startswith("  ") and ln.split()}
    assert lines["received"][1] == "6" and lines["delivered"][1] == "4"
    assert lines["skipped"][1] == "1" and lines["parked"][1] == "1"
    assert "P1" in text and "retry queue: 1" in text
    assert "http://localhost:8233/namespaces/default/workflows/signal%2F" in text


async def test_token_guards_the_dashboard_and_the_switch_removes_it(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fastapi import FastAPI

    from client.dashboard import SWITCH_ENV, dashboard_router

    app = FastAPI()
    app.include_router(dashboard_router(stack.client, None, token="s3cret-token"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://dash") as http:
        none = await http.get("/dashboard/api/retry-queue")
        wrong = await http.get("/dashboard/api/retry-queue", auth=("ops", "nope"))
        right = await http.get(f"/dashboard/api/flows/{stack.flow.name}", auth=("ops", "s3cret-token"))
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Basic")
    assert wrong.status_code == 401 and "s3cret" not in wrong.text
    assert right.status_code == 200 and right.json()["totals"]["delivered"] == 4

    monkeypatch.setenv(SWITCH_ENV, "off")
    off = FastAPI()
    off.include_router(dashboard_router(stack.client, None))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=off), base_url="http://dash") as http:
        assert (await http.get("/dashboard")).status_code == 404
