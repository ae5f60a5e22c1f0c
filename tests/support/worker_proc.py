"""A real, separate worker process for crash tests: `python -m tests.support.worker_proc
ADDRESS NAMESPACE TASK_QUEUE [DEFINITIONS_JSON_FILE]`. Prints READY once polling. `start_worker`
runs it; like `eventsync worker -d`, it resolves flows and connections from the definitions given."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from temporalio.client import Client

from eventsync.definitions import Definitions
from worker.converter import data_converter
from worker.main import build_worker

ROOT = Path(__file__).resolve().parents[2]


def start_worker(
    client: Client, task_queue: str, defs: Definitions | None = None
) -> subprocess.Popen[str]:
    """A worker in its own process (so a test can SIGKILL it), polling ``task_queue``."""
    extra: list[str] = []
    if defs is not None:
        fd, path = tempfile.mkstemp(suffix=".json", prefix="eventsync-defs-")
        with os.fdopen(fd, "w") as f:
            f.write(defs.model_dump_json())
        extra = [path]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.support.worker_proc",
            client.service_client.config.target_host,
            client.namespace,
            task_queue,
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "READY", line
    return proc


async def main(address: str, namespace: str, task_queue: str, defs: Definitions | None = None) -> None:
    client = await Client.connect(address, namespace=namespace, data_converter=data_converter())
    async with build_worker(client, task_queue, definitions=defs):
        print("READY", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    defs_file = sys.argv[4] if len(sys.argv) > 4 else None
    loaded = Definitions.model_validate_json(Path(defs_file).read_text()) if defs_file else None
    asyncio.run(main(*sys.argv[1:4], defs=loaded))
