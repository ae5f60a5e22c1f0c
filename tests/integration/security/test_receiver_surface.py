"""Issue 13 item 3, on a real receiver: no dashboard without a token (fail closed), no OpenAPI
pages; with the token, bearer and ?token= both open it."""

from __future__ import annotations

import httpx
import pytest
from temporalio.client import Client

from eventsync.definitions import Definitions
from tests.integration.signal.harness import receiver


async def test_receiver_shows_no_dashboard_or_openapi_without_a_token(
    client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EVENTSYNC_DASHBOARD_TOKEN", raising=False)
    monkeypatch.delenv("EVENTSYNC_DASHBOARD", raising=False)
    with receiver(client, Definitions(), task_queue) as rx:
        async with httpx.AsyncClient(base_url=rx.url) as http:
            for path in ("/dashboard", "/dashboard/api/retry-queue", "/docs", "/redoc", "/openapi.json"):
                assert (await http.get(path)).status_code == 404, path
            assert (await http.get("/healthz")).status_code == 200


async def test_with_a_token_bearer_and_query_token_open_it(
    client: Client, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVENTSYNC_DASHBOARD_TOKEN", "t-123")
    monkeypatch.delenv("EVENTSYNC_DASHBOARD", raising=False)
    with receiver(client, Definitions(), task_queue) as rx:
        async with httpx.AsyncClient(base_url=rx.url, timeout=30) as http:
            assert (await http.get("/dashboard/api/retry-queue")).status_code == 401
            assert (await http.get("/dashboard/api/retry-queue?token=wrong")).status_code == 401
            ok = await http.get("/dashboard/api/retry-queue", headers={"Authorization": "Bearer t-123"})
            assert ok.status_code == 200, ok.text
            assert (await http.get("/dashboard/api/retry-queue?token=t-123")).status_code == 200
