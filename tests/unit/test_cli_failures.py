"""What the CLI says when Temporal is out of reach or refuses: one line and a fix, no traceback."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from temporalio.service import RPCError, RPCStatusCode

from client import failures

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_temporal_is_one_line_and_a_fix() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "client", "fetch", "status", "any", "--address", f"127.0.0.1:{_closed_port()}"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "cannot reach Temporal: Connection refused" in proc.stderr
    assert "--address / TEMPORAL_ADDRESS" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_search_attributes_lists_the_commands_that_register_them() -> None:
    err = RPCError(
        "Namespace default has no mapping defined for search attribute EventsyncAccount",
        RPCStatusCode.INVALID_ARGUMENT,
        b"",
    )
    message = failures.explain(err)
    assert message is not None
    assert message.startswith("Temporal refused the request (INVALID_ARGUMENT): Namespace default")
    for name, kind in [("EventsyncAccount", "Keyword"), ("EventsyncRecords", "KeywordList")]:
        assert f"temporal operator search-attribute create --name {name} --type {kind}" in message


def test_a_bug_is_not_explained_away() -> None:
    # Anything we do not recognise stays a traceback, so a real defect is never hidden.
    assert failures.explain(KeyError("x")) is None
    assert failures.explain(RuntimeError("something else")) is None
