"""Save a workflow's history as a replay fixture: tests/histories/<WorkflowType>-<name>.json.

    .venv/bin/python scripts/record_history.py WORKFLOW_ID NAME [--address localhost:7233]

Every fixture there is replayed against the current workflow code by tests/test_replay.py, so a
change that would break running workflows (non-determinism) fails the suite.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from worker.connect import connect

HISTORIES = Path(__file__).resolve().parent.parent / "tests" / "histories"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workflow_id")
    parser.add_argument("name")
    parser.add_argument("--address", default=None)
    args = parser.parse_args()
    client = await connect(args.address)
    handle = client.get_workflow_handle(args.workflow_id)
    desc = await handle.describe()
    history = await handle.fetch_history()
    out = HISTORIES / f"{desc.workflow_type}-{args.name}.json"
    out.write_text(history.to_json())
    print(f"wrote {out}")


if __name__ == "__main__":
    asyncio.run(main())
