"""`eventsync dev`'s dev server keeps runs across a restart (SQLite file in the state dir)."""

from __future__ import annotations

import uuid
from pathlib import Path

from temporalio.client import Client

from activities.smoke import PingInput
from client.devserver import DevServer
from sandbox.serving import free_port
from worker.converter import data_converter
from worker.main import build_worker
from workflows.smoke import SmokeWorkflow


async def _list_smoke(address: str) -> list[str]:
    client = await Client.connect(address, data_converter=data_converter())
    return [w.id async for w in client.list_workflows("EventsyncKind='smoke'")]


async def test_runs_survive_a_dev_server_restart(tmp_path: Path) -> None:
    server = DevServer(state_dir=tmp_path / "state", port=free_port(), ui_port=None)
    server.start()
    try:
        client = await Client.connect(server.address, data_converter=data_converter())
        wf_id = f"smoke-{uuid.uuid4()}"
        async with build_worker(client, "restart-test"):
            await client.execute_workflow(
                SmokeWorkflow.run, PingInput(message="before"), id=wf_id, task_queue="restart-test"
            )
        server.stop()
        assert server.db_file.exists()
        # Histories hold payloads (sealed) and search attributes (not): owner-only folder.
        assert server.state_dir.stat().st_mode & 0o777 == 0o700
        server.start()
        ids: list[str] = []
        for _ in range(50):
            ids = await _list_smoke(server.address)
            if ids:
                break
        assert ids == [wf_id]
    finally:
        server.stop()
