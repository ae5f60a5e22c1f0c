"""The compiled path's own surface: caching, fallbacks that say so, explain, the CLI and validate."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from client.cli import cli
from eventsync.definitions.loader import load_definitions
from eventsync.fetch.transform import compile_chain
from eventsync.transforms import TransformError, jolt

CHAIN = [
    {
        "operation": "shift",
        "spec": {"emailAddress": "c.email", "fieldValues": {"*": {"value": "c.custom.@(1,id)"}}},
    },
    {"operation": "shift", "spec": {"c": {"email": "profile.email", "custom": {"100001": "answers.DIET"}}}},
    {"operation": "default", "spec": {"status": "New"}},
    {"operation": "modify-overwrite-beta", "spec": {"profile": {"email": "=toLower"}}},
]
RECORD = {
    "emailAddress": "Ann@Example.com",
    "fieldValues": [{"id": "100001", "value": "Vegan"}, {"id": "100009", "value": "x"}],
    "isBounceback": "false",
}
EXPECTED = {"profile": {"email": "ann@example.com"}, "answers": {"DIET": "Vegan"}, "status": "New"}


def test_the_chain_is_generated_python_and_agrees_with_jolt_py() -> None:
    chain = jolt.compile(CHAIN)
    assert [s.compiled for s in chain.steps] == [True, True, True, True]
    assert chain.apply(RECORD) == EXPECTED == chain.apply_interpreted(RECORD)


def test_the_same_spec_compiles_once() -> None:
    first = jolt.compile(json.loads(json.dumps(CHAIN)))
    assert jolt.compile(json.loads(json.dumps(CHAIN))) is first
    # key order is part of a Jolt spec, so a reordered spec is another chain
    reordered = [{"spec": e["spec"], "operation": e["operation"]} for e in CHAIN]
    assert jolt.compile(reordered) is not first
    # custom functions are part of the identity too
    assert jolt.compile(CHAIN, functions={"f": lambda x: x}) is not first


def test_fetch_transforms_get_the_compiled_path() -> None:
    apply = compile_chain(CHAIN)
    assert apply is not None
    assert apply(RECORD) == EXPECTED
    owner = apply.__self__  # type: ignore[attr-defined]
    assert isinstance(owner, jolt.JoltChain) and all(s.compiled for s in owner.steps)


def test_an_entry_the_compiler_declines_runs_through_jolt_py_and_says_so() -> None:
    # `&5` names a level above the root: jolt-py fails when it is reached, so the compiler
    # leaves the entry to jolt-py rather than guess.
    chain = jolt.compile([{"operation": "shift", "spec": {"a": "&5", "b": "b"}}, {"operation": "sort"}])
    first = chain.steps[0]
    assert not first.compiled and first.reason and "above the root" in first.reason
    assert chain.steps[1].compiled
    assert chain.apply({"b": 1}) == {"b": 1}
    explanation = chain.explain({"b": 1})
    assert explanation.steps[0].startswith("chain[0] shift: jolt-py (not compiled: ")
    with pytest.raises(TransformError) as info:
        chain.apply({"a": 1})
    assert info.value.index == 0 and "chain[0] (shift)" in str(info.value)


def test_explain_names_the_spec_path_of_each_field_and_the_unused_input() -> None:
    explanation = jolt.compile(CHAIN).explain(RECORD)
    assert explanation.output == EXPECTED
    by_path = {f.path: f.produced_by for f in explanation.fields}
    assert by_path["/profile/email"] == (
        "chain[3] modify-overwrite-beta /spec/profile/email",
        "chain[1] shift /spec/c/email <- /c/email",
        "chain[0] shift /spec/emailAddress <- /emailAddress",
        "input /emailAddress",
    )
    assert by_path["/answers/DIET"][:2] == (
        "chain[1] shift /spec/c/custom/100001 <- /c/custom/100001",
        "chain[0] shift /spec/fieldValues/*/value <- /fieldValues/0/value",
    )
    assert by_path["/status"] == ("chain[2] default /spec/status",)
    assert explanation.unmatched == ("/isBounceback",)


def _eventsync(*args: str) -> subprocess.CompletedProcess[str]:
    # Failures leave through os._exit (a Temporal runtime quirk, client/commands/common.py),
    # so commands that fail run as a process.
    return subprocess.run(
        [sys.executable, "-m", "client", *args], capture_output=True, text=True, timeout=60, check=False
    )


def _write(tmp_path: Path, name: str, value: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value, indent=2))
    return str(path)


def test_transform_try_prints_the_output(tmp_path: Path) -> None:
    spec, record = _write(tmp_path, "spec.json", CHAIN), _write(tmp_path, "in.json", RECORD)
    result = CliRunner().invoke(cli, ["transform", "try", "--spec", spec, "--input", record])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == EXPECTED


def test_transform_try_explain(tmp_path: Path) -> None:
    spec = _write(tmp_path, "spec.json", CHAIN)
    result = CliRunner().invoke(cli, ["transform", "try", "-s", spec, "-i", json.dumps(RECORD), "--explain"])
    assert result.exit_code == 0, result.output
    assert '  /profile/email = "ann@example.com"' in result.output
    assert "      <- chain[1] shift /spec/c/email <- /c/email" in result.output
    assert "input fields that matched nothing:\n  /isBounceback" in result.output
    assert "chain[0] shift: compiled" in result.output


def test_transform_try_points_at_the_bad_line_of_a_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "- operation: shift\n  spec:\n    a: b\n- operation: remove\n  spec:\n    x:\n      y: 'eh?'\n"
    )
    proc = _eventsync("transform", "try", "-s", str(spec), "-i", "{}")
    assert proc.returncode == 1
    assert f"{spec}:7: Jolt chain[1] at /spec/x/y: invalid remove spec" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_transform_try_missing_file_is_a_plain_error(tmp_path: Path) -> None:
    proc = _eventsync("transform", "try", "-s", str(tmp_path / "nope.json"), "-i", "{}")
    assert proc.returncode == 1 and "no such file" in proc.stderr and "Traceback" not in proc.stderr


DEFINITIONS = """\
connections:
  - name: eloqua
    vendor: eloqua
    base_url: http://127.0.0.1:8712
    auth: {kind: basic, site: S, username: u, password: "${env:ELOQUA_PW}"}
  - name: platform
    vendor: platform
    base_url: http://127.0.0.1:8701
    auth: {kind: basic, username: u, password: "${env:PLATFORM_PW}"}
fetches:
  - name: contacts
    request: {connection: eloqua, method: GET, path: /contacts}
    transform:
      - operation: shift
        spec:
          emailAddress: profile.email
      - operation: shift
        spec:
          profile:
            email: {nested: 5}
    target: {kind: platform_bulk_upsert, connection: platform, account: A, event: E, match_key: email}
"""


def test_validate_compiles_every_fetch_spec_and_points_at_file_line_and_pointer(tmp_path: Path) -> None:
    path = tmp_path / "eventsync.yaml"
    path.write_text(DEFINITIONS)
    result = load_definitions(path, check_secrets=False)
    assert result.definitions is None
    [problem] = result.errors
    assert problem.line == 20  # the line of `nested: 5`
    assert problem.path == "fetches[0].transform[1].spec.profile.email.nested"
    assert "Jolt chain[1] at /spec/profile/email/nested" in problem.message
    proc = _eventsync("validate", str(path))
    assert proc.returncode == 1
    assert (
        f"{path}:20: error: fetches[0].transform[1].spec.profile.email.nested: Jolt chain[1]" in proc.stderr
    )


def test_validate_accepts_good_specs(tmp_path: Path) -> None:
    path = tmp_path / "eventsync.yaml"
    path.write_text(DEFINITIONS.replace("{nested: 5}", "profile.mail"))
    assert load_definitions(path, check_secrets=False).definitions is not None


def _nest(key: str, depth: int, leaf: object) -> object:
    node = leaf
    for _ in range(depth):
        node = {key: node}
    return node


@pytest.mark.parametrize(
    ("operation", "leaf", "depth", "compiled", "why"),
    [
        ("shift", "out", 15, True, None),  # nested wildcards: one loop per level, linear code
        ("cardinality", "MANY", 15, True, None),
        ("shift", "out", 25, False, "too deeply nested"),  # Python allows 20 nested loops
        ("modify-overwrite-beta", "=toUpper", 12, False, "20,000 lines"),
    ],
)
def test_specs_too_big_to_generate_run_through_jolt_py_and_say_so(
    operation: str, leaf: object, depth: int, compiled: bool, why: str | None
) -> None:
    chain = jolt.compile({"operation": operation, "spec": _nest("*", depth, leaf)})
    step = chain.steps[0]
    assert step.compiled is compiled
    if why:
        assert step.reason and why in step.reason
    data = _nest("a", depth, "x")
    assert chain.apply(data) == chain.apply_interpreted(data)
