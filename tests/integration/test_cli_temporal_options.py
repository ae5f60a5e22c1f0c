"""Every command that talks to Temporal takes `--address`, `--namespace` and `--profile` (an
envconfig profile, as the `temporal` CLI's own config file defines it), the same way."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from temporalio.testing import WorkflowEnvironment

from client.cli import cli
from tests.support.cli import eventsync

# The commands that connect to Temporal, by their path under `eventsync`.
TALKS_TO_TEMPORAL = [
    ("worker",),
    ("apply",),
    ("connections", "test"),
    ("serve",),
    ("insights",),
    ("retry-queue", "retry"),
    ("retry-queue", "discard"),
    ("replay",),
    ("fetch", "run"),
    ("fetch", "status"),
    ("fetch", "resume"),
    ("fetch", "cancel"),
    ("fetch", "reset"),
    ("fetch", "schedule", "pause"),
    ("touchpoint", "reprocess"),
    ("touchpoint", "status"),
    ("touchpoint", "resume"),
]
# `retry-queue list` and `explain` read the event store, not Temporal: they take no Temporal options.
def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group), path
        found = command.commands.get(name)
        assert found is not None, f"no command {' '.join(path)}"
        command = found
    return command


def _options(command: click.Command) -> set[str]:
    return {opt for p in command.params for opt in getattr(p, "opts", [])}


@pytest.mark.parametrize(
    "path",
    TALKS_TO_TEMPORAL,
    ids=" ".join,
)
def test_every_temporal_command_takes_the_same_three_options(path: tuple[str, ...]) -> None:
    assert {"--address", "--namespace", "--profile"} <= _options(_command(path))


def _config(tmp_path: Path, address: str) -> Path:
    path = tmp_path / "temporal.toml"
    path.write_text(
        f'[profile.default]\naddress = "127.0.0.1:1"\n\n[profile.suite]\naddress = "{address}"\nnamespace = "default"\n',
        encoding="utf-8",
    )
    return path


async def test_a_profile_names_the_server(temporal_env: WorkflowEnvironment, tmp_path: Path) -> None:
    # The default profile points nowhere: only the named profile can reach the suite's server.
    address = temporal_env.client.service_client.config.target_host
    env: dict[str, str | None] = {
        "TEMPORAL_CONFIG_FILE": str(_config(tmp_path, address)),
        "TEMPORAL_ADDRESS": None,
        "TEMPORAL_NAMESPACE": None,
        "TEMPORAL_PROFILE": None,
    }
    ran = await eventsync("insights", "--json", "--minutes", "5", "--profile", "suite", env=env, cwd=tmp_path)
    assert ran.code == 0, ran.both
    assert json.loads(ran.out)["namespace"] == "default"

    # --address wins over the profile's address, as in the `temporal` CLI.
    ran = await eventsync("insights", "--json", "--profile", "suite", "--address", "127.0.0.1:1", env=env, cwd=tmp_path)
    assert ran.code == 1
    assert "cannot reach Temporal" in ran.err


async def test_an_unknown_profile_is_one_line_and_a_fix(tmp_path: Path) -> None:
    env: dict[str, str | None] = {"TEMPORAL_CONFIG_FILE": str(_config(tmp_path, "127.0.0.1:1"))}
    (tmp_path / "eventsync.yaml").write_text("connections: []\n", encoding="utf-8")
    ran = await eventsync("apply", "--profile", "prdo", env=env, cwd=tmp_path)
    assert ran.code == 1, ran.both
    assert "Profile 'prdo' not found" in ran.err
    assert "fix:" in ran.err
    assert "Traceback" not in ran.both
