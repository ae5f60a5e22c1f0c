"""`eventsync serve --dashboard-only` (the deploy/ dashboard role): no webhook secret needed or
held, no webhook accepted, and it refuses to start without the dashboard token."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from client.commands.serve import dashboard_only_secrets
from eventsync.flows.signature import SignatureError, Verifier, sign


def test_its_secret_is_random_and_accepts_no_platform_signature() -> None:
    secrets = dashboard_only_secrets()
    assert secrets != dashboard_only_secrets() and len(secrets[0]) == 32
    body, now = b'{"eventId": "e1"}', int(time.time())
    with pytest.raises(SignatureError):
        Verifier(secrets).verify(str(now), sign(b"the-platform-secret", now, body), body, now)


def test_dashboard_only_needs_the_dashboard_token_not_a_webhook_secret(tmp_path: Path) -> None:
    defs = tmp_path / "eventsync.yaml"
    defs.write_text("connections: []\nflows: []\nfetches: []\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EVENTSYNC_WEBHOOK", "EVENTSYNC_DASHBOARD"))}
    env["EVENTSYNC_ALLOW_PLAINTEXT"] = "1"
    # `fail` ends the process (os._exit), so the command runs in one of its own.
    proc = subprocess.run(
        [sys.executable, "-m", "client", "serve", "--dashboard-only", "-d", str(defs), "--port", "0"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=False,
    )
    assert proc.returncode != 0
    assert "--dashboard-only serves the dashboard" in proc.stderr, proc.stderr
    assert "webhook signing secret" not in proc.stderr
