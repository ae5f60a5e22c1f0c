"""`eventsync validate`: every problem at once, with file, line, path and a hint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from client.cli import cli
from eventsync.definitions.loader import load_definitions

GOOD = """\
connections:
  - name: marketo
    vendor: marketo
    base_url: https://123-abc-456.mktorest.com
    auth:
      kind: oauth2_client_credentials
      token_url: https://123-abc-456.mktorest.com/identity/oauth/token
      token_request: query
      client_id: abc
      client_secret: ${env:MARKETO_SECRET}
  - name: eloqua
    vendor: eloqua
    base_url: https://secure.p03.eloqua.com
    auth: {kind: basic, site: Acme, username: jane, password: "${file:/run/secrets/eloqua}"}
"""

THREE_MISTAKES = """\
connections:
  - name: marketo
    vendor: marketo
    base_url: https://123-abc-456.mktorest.com
    auth:
      kind: oauth2_client_credentials
      token_url: https://123-abc-456.mktorest.com/identity/oauth/token
      client_id: abc
      client_secret: hunter2
  - name: eloqua
    vendor: elqua
    base_url: https://secure.p03.eloqua.com
    auth: {kind: basic, username: jane, password: "${env:ELOQUA_PW}"}
    timeout: 30
"""


def write(tmp_path: Path, text: str, name: str = "eventsync.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_file_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKETO_SECRET", "x")
    result = load_definitions(write(tmp_path, GOOD))
    assert result.errors == []
    assert result.definitions is not None
    assert [c.name for c in result.definitions.connections] == ["marketo", "eloqua"]
    # The file secret does not exist here: a warning, not an error.
    assert [w.path for w in result.warnings] == ["connections[1].auth.password"]


def test_three_mistakes_reported_at_once_with_lines(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES)
    result = load_definitions(path)
    assert result.definitions is None
    got = {(p.line, p.path) for p in result.errors}
    assert got == {
        (9, "connections[0].auth.client_secret"),
        (11, "connections[1].vendor"),
        (14, "connections[1].timeout"),
    }
    by_path = {p.path: p for p in result.errors}
    assert "secrets are references" in by_path["connections[0].auth.client_secret"].message
    assert "hunter2" not in str(by_path["connections[0].auth.client_secret"])
    assert (
        by_path["connections[1].timeout"].hint is not None
        and "timeout_s" in by_path["connections[1].timeout"].hint
    )
    assert all(p.file == str(path) for p in result.errors)


def test_validate_cli_prints_every_error_and_exits_1(tmp_path: Path) -> None:
    # The CLI leaves through os._exit on failure (Temporal runtime quirk), so run it as a process.
    import subprocess
    import sys

    path = write(tmp_path, THREE_MISTAKES)
    proc = subprocess.run(
        [sys.executable, "-m", "client", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if ": error: " in line]
    assert [line.split(": error:")[0] for line in lines] == [f"{path}:9", f"{path}:11", f"{path}:14"]
    assert "3 error(s)" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_missing_env_secret_is_a_warning_naming_connection_and_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MARKETO_SECRET", raising=False)
    result = CliRunner().invoke(cli, ["validate", str(write(tmp_path, GOOD))])
    assert result.exit_code == 0, result.output
    assert (
        "connection 'marketo': auth.client_secret refers to ${env:MARKETO_SECRET}, but the environment variable MARKETO_SECRET is not set"
        in result.output
    )
    assert ":10: warning:" in result.output


def test_folder_of_files_merges_and_points_at_the_right_file(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.yaml")
    write(tmp_path, "connections:\n  - name: marketo\n    base_url: http://x\n", "b.yaml")
    result = load_definitions(tmp_path, check_secrets=False)
    (dup,) = result.errors
    assert dup.file.endswith("b.yaml") and dup.line == 2 and "duplicate name 'marketo'" in dup.message


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    result = load_definitions(
        write(tmp_path, "connections:\n  - name: x\n   base_url: [\n"), check_secrets=False
    )
    (err,) = result.errors
    assert err.line is not None and "not valid YAML" in err.message


def test_unknown_section_suggests_the_right_one(tmp_path: Path) -> None:
    result = load_definitions(write(tmp_path, "conections: []\n"), check_secrets=False)
    (err,) = result.errors
    assert err.line == 1 and err.hint == "did you mean 'connections'?"


def test_schema_command_writes_json_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert set(schema["properties"]) == {"connections", "flows", "fetches", "touchpoint"}
