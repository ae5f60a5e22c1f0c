"""`scripts/dev.sh` as a user runs it: it installs only when pyproject.toml changed, and it leaves
the sandbox's test credentials and the definitions' place in `.eventsync/dev.env`, which the
README's commands read in any shell."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import platform
from sandbox.serving import Served, served
from tests.support.cli import ROOT, eventsync

# Stand-ins for the venv's python and eventsync that only record how they were called: the
# script's own logic (what it installs, when, what it writes and runs) is what is under test.
RECORDER = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >>"$(dirname "$0")/../../calls.log"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "dev.sh", repo / "scripts" / "dev.sh")
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")
    bin_dir = repo / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "eventsync"):
        (bin_dir / name).write_text(RECORDER, encoding="utf-8")
        (bin_dir / name).chmod(0o755)
    return repo


def _dev_sh(repo: Path) -> list[str]:
    log = repo / "calls.log"
    log.unlink(missing_ok=True)
    subprocess.run(["bash", str(repo / "scripts" / "dev.sh"), "--no-smoke"], check=True, timeout=60)
    return log.read_text(encoding="utf-8").splitlines()


def test_dev_sh_installs_only_when_pyproject_changed(checkout: Path) -> None:
    install = "python -m pip install -q -e ."
    run = "eventsync dev --sandbox --definitions examples/dev --no-smoke"
    assert _dev_sh(checkout) == ["python -m pip install -q --upgrade pip", install, run]
    assert _dev_sh(checkout) == [run]
    with (checkout / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write("\n# a new dependency\n")
    assert install in _dev_sh(checkout)
    assert _dev_sh(checkout) == [run]


def test_dev_sh_writes_the_sandbox_credentials_where_commands_find_them(checkout: Path) -> None:
    _dev_sh(checkout)
    values = dict(
        line.split("=", 1)
        for line in (checkout / ".eventsync" / "dev.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert values["EVENTSYNC_DEFINITIONS"] == "examples/dev"
    assert values["PLATFORM_PASSWORD"] == "sandbox"


@pytest.fixture(scope="module")
def emulator() -> Iterator[Served]:
    with served(platform.create_app(seed={"events": 1, "registrations_per_event": 1})) as s:
        yield s


async def test_readme_commands_find_the_dev_definitions_and_secrets(
    checkout: Path, emulator: Served
) -> None:
    # A fresh shell in the checkout after dev.sh: nothing exported, no -d given.
    _dev_sh(checkout)
    defs = (ROOT / "examples" / "dev" / "eventsync.yaml").read_text(encoding="utf-8")
    (checkout / "examples" / "dev").mkdir(parents=True)
    (checkout / "examples" / "dev" / "eventsync.yaml").write_text(
        defs.replace("http://127.0.0.1:8701", emulator.url), encoding="utf-8"
    )
    shell = {name: None for name in os.environ if name.startswith(("EVENTSYNC_", "PLATFORM_", "MARKETO_"))}
    shell |= {"ELOQUA_PASSWORD": None, "TOUCHPOINT_TOKEN": None}
    ran = await eventsync("validate", env=shell, cwd=checkout)
    assert ran.code == 0, ran.both
    ran = await eventsync("connections", "test", "platform", env=shell, cwd=checkout)
    assert ran.code == 0, ran.both
    assert "OK: GET /certainExternal/service/v1/Event/DEMO answered HTTP 200" in ran.out

    # The environment still wins over the file.
    ran = await eventsync("connections", "test", "platform", env={**shell, "PLATFORM_PASSWORD": "x"}, cwd=checkout)
    assert ran.code == 1 and "HTTP 401" in ran.err, ran.both


async def test_without_definitions_a_command_says_where_to_point_it(tmp_path: Path) -> None:
    ran = await eventsync("connections", "list", env={"EVENTSYNC_DEFINITIONS": None}, cwd=tmp_path)
    assert ran.code == 1
    assert "no definitions at eventsync.yaml: give -d PATH" in ran.err
