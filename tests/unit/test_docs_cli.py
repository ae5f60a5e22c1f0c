"""docs/cli.md's `temporal` equivalents work on the encrypted dev stack as written: every command
that sends or shows a payload goes through the codec server (tests/integration/test_dev_command.py
shows `temporal workflow show --codec-endpoint` decoding the dev stack's payloads)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
PAYLOAD_COMMANDS = re.compile(r"temporal workflow (execute|start|query|signal|show)\b[^`\n]*")


def test_every_payload_command_in_cli_md_names_the_codec_endpoint() -> None:
    commands = [m.group(0) for m in PAYLOAD_COMMANDS.finditer(DOC.read_text(encoding="utf-8"))]
    assert len(commands) >= 6
    missing = [c for c in commands if "--codec-endpoint http://127.0.0.1:8081" not in c]
    assert missing == []
