"""`eventsync connections test` against the real platform emulator: a platform path carries the
account code, which the definitions using the connection give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox import platform
from sandbox.serving import Served, served
from tests.support.cli import eventsync

FLOW = """
flows:
  - name: registered-to-webhook
    source: {account: DEMO, connection: platform}
    activate_for: {subject: status, op: is, value: "Signal: Registered"}
    destination:
      kind: webhook
      connection: hook
      path: /registrations
      mapping: {fields: {email: $.record.profile.email}}
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[Served]:
    app = platform.create_app(seed={"events": 1, "registrations_per_event": 3, "sessions_per_event": 1})
    with served(app) as s:
        yield s


def _defs(tmp_path: Path, url: str, with_flow: bool = True) -> Path:
    text = f"""
connections:
  - name: platform
    vendor: platform
    base_url: {url}
    auth: {{kind: basic, username: sandbox, password: "${{env:PLATFORM_PASSWORD}}"}}
  - name: hook
    base_url: http://127.0.0.1:1
"""
    path = tmp_path / "eventsync.yaml"
    path.write_text(text + (FLOW if with_flow else ""), encoding="utf-8")
    return path


async def test_platform_connection_test_reads_the_flows_account(emulator: Served, tmp_path: Path) -> None:
    defs = str(_defs(tmp_path, emulator.url))
    ran = await eventsync("connections", "test", "platform", "-d", defs, env={"PLATFORM_PASSWORD": "sandbox"})
    assert ran.code == 0, ran.both
    assert "OK: GET /certainExternal/service/v1/Event/DEMO answered HTTP 200" in ran.out

    ran = await eventsync("connections", "test", "platform", "-d", defs, env={"PLATFORM_PASSWORD": "wrong"})
    assert ran.code == 1, ran.both
    assert "HTTP 401" in ran.err


async def test_an_account_without_events_still_proves_the_login(emulator: Served, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=emulator.url) as http:
        (await http.post("/_sandbox/accounts", json={"accountCode": "EMPTY"})).raise_for_status()
    defs = str(_defs(tmp_path, emulator.url, with_flow=False))
    ran = await eventsync(
        "connections", "test", "platform", "-d", defs, "--account", "EMPTY", env={"PLATFORM_PASSWORD": "sandbox"}
    )
    assert ran.code == 0, ran.both
    assert "answered HTTP 404 (no events yet)" in ran.out


async def test_a_platform_connection_no_definition_uses_says_how_to_test_it(
    emulator: Served, tmp_path: Path
) -> None:
    defs = str(_defs(tmp_path, emulator.url, with_flow=False))
    ran = await eventsync("connections", "test", "platform", "-d", defs, env={"PLATFORM_PASSWORD": "sandbox"})
    assert ran.code == 1, ran.both
    assert "fix: set `test_path: /certainExternal/service/v1/Event/<ACCOUNT>`" in ran.err
    assert "Traceback" not in ran.both
