"""Issue 13 item 8: long-running commands refuse to start without codec keys (fail closed),
unless EVENTSYNC_ALLOW_PLAINTEXT=1; the cwd dev key file does not count outside `eventsync dev`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXE = str(Path(sys.executable).parent / "eventsync")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVENTSYNC_CODEC_KEYS")}
    env.pop("EVENTSYNC_ALLOW_PLAINTEXT", None)
    return {**env, **extra}


@pytest.mark.parametrize("command", ["worker", "serve"])
def test_refuses_to_start_without_keys(command: str, tmp_path: Path) -> None:
    (tmp_path / ".eventsync").mkdir()
    (tmp_path / ".eventsync" / "codec.keys").write_text("dev:ZXZlbnRzeW5jLXRlc3Qtc3VpdGUta2V5LTEtLS0tLS0=\n")
    proc = subprocess.run(
        [EXE, command, "-d", str(tmp_path)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert f"eventsync {command}: no payload encryption keys: set EVENTSYNC_CODEC_KEYS" in proc.stderr
    assert "EVENTSYNC_ALLOW_PLAINTEXT=1" in proc.stderr and "Traceback" not in proc.stderr


def test_allow_plaintext_is_the_explicit_opt_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from client.commands.common import require_codec_keys

    monkeypatch.delenv("EVENTSYNC_CODEC_KEYS", raising=False)
    monkeypatch.delenv("EVENTSYNC_CODEC_KEYS_FILE", raising=False)
    monkeypatch.setenv("EVENTSYNC_ALLOW_PLAINTEXT", "1")
    require_codec_keys("worker")  # returns: plaintext allowed explicitly
