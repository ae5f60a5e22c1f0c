from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from temporalio.client import Client

from sandbox import restsource, webhook
from sandbox.serving import Served, served
from worker.main import build_worker


@pytest.fixture
def source() -> Iterator[Served]:
    with served(restsource.create_app(count=22, ties=3, default_page_size=4)) as s:
        yield s


@pytest.fixture
def sink() -> Iterator[Served]:
    with served(webhook.create_app()) as s:
        yield s


@pytest_asyncio.fixture
async def worker(client: Client, task_queue: str) -> AsyncIterator[None]:
    async with build_worker(client, task_queue):
        yield
