"""The suite's Temporal servers are reachable on loopback only, and the time-skipping one skips."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker


def _outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("203.0.113.1", 9))  # a documentation address: routed, never sent to
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@workflow.defn(name="TestSleepsFiveHours")
class SleepsFiveHours:
    @workflow.run
    async def run(self) -> str:
        await workflow.sleep(timedelta(hours=5))
        return "woke"


@pytest.mark.parametrize("fixture", ["temporal_env", "ts_env"])
def test_test_servers_listen_on_loopback_only(fixture: str, request: pytest.FixtureRequest) -> None:
    env: WorkflowEnvironment = request.getfixturevalue(fixture)
    host, port = env.client.service_client.config.target_host.rsplit(":", 1)
    assert _accepts("127.0.0.1", int(port))
    outward = _outward_address()
    if outward is None:
        pytest.skip("no non-loopback interface to try")
    assert not _accepts(outward, int(port)), f"{fixture} answers on {outward}:{port}"


async def test_time_skipping_server_skips_a_long_timer(ts_env: WorkflowEnvironment) -> None:
    queue = f"ts-{uuid.uuid4()}"
    async with Worker(ts_env.client, task_queue=queue, workflows=[SleepsFiveHours]):
        result = await ts_env.client.execute_workflow(
            SleepsFiveHours.run, id=f"sleep-{uuid.uuid4()}", task_queue=queue, execution_timeout=timedelta(hours=6)
        )
    assert result == "woke"
