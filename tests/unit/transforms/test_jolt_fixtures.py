"""The Jolt conformance gate: every runnable case of Java Jolt's own fixtures, through the compiled path.

The fixtures live in the repo (tests/fixtures/jolt, a copy of shared/jolt-fixtures, Apache-2.0)
so the gate never depends on a path outside the repo. A jolt-py upgrade must pass it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pyjolt import MISSING

from eventsync.transforms import TransformError, jolt

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jolt"
MANIFEST = json.loads((FIXTURES / "MANIFEST.json").read_text())
CASES: list[dict[str, Any]] = MANIFEST["cases"]

# Cases where jolt-py differs from Java Jolt and our wrapper cannot reasonably fix it:
# case id -> why. Each is asserted to still fail, so an upgrade that fixes one is noticed.
# Empty today: the one known jolt-py divergence (an empty chain is accepted) is fixed in the
# wrapper, which rejects it as Java does.
KNOWN_DIVERGENCES: dict[str, str] = {}


def _load(case: dict[str, Any]) -> Any:
    return json.loads((FIXTURES / case["file"]).read_text())


def _same(actual: Any, expected: Any, *, any_order: bool, key_order: bool) -> bool:
    """Jolt's Diffy: maps key by key, lists in order (or as multisets), 1 != 1.0, True != 1."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, dict):
        if set(actual) != set(expected) or (key_order and list(actual) != list(expected)):
            return False
        return all(_same(actual[k], expected[k], any_order=any_order, key_order=key_order) for k in expected)
    if isinstance(expected, list):
        if len(actual) != len(expected):
            return False
        if not any_order:
            return all(
                _same(a, e, any_order=False, key_order=key_order)
                for a, e in zip(actual, expected, strict=True)
            )
        remaining = list(expected)
        for item in actual:
            for i, candidate in enumerate(remaining):
                if _same(item, candidate, any_order=True, key_order=key_order):
                    del remaining[i]
                    break
            else:
                return False
        return True
    return bool(actual == expected)


def _label(pick: Any) -> Any:
    def fn(labels: Any = None, *_: Any) -> Any:
        # The Java test's functions: the label of the smallest / largest integer key.
        if not isinstance(labels, dict) or not labels:
            return MISSING
        keys = [int(k) for k in labels if str(k).lstrip("-").isdigit()]
        return labels[str(pick(keys))] if keys else MISSING

    return fn


CUSTOM_FUNCTIONS = {"minLabelComputation": _label(min), "maxLabelComputation": _label(max)}


def _run(case: dict[str, Any]) -> None:
    data = _load(case)
    runner = case["runner"]
    if runner == "negative":
        spec = data[case["index"]] if "index" in case else data
        if case["op"] != "chainr":
            spec = {"operation": case["op"], "spec": spec["spec"] if "index" not in case else spec}
        with pytest.raises(TransformError) as info:
            jolt.compile(spec)
        assert info.value.index is not None or spec == []
        return

    context = data.get("context")
    functions = CUSTOM_FUNCTIONS if case.get("custom_functions") else None
    if runner == "transform":
        entry: dict[str, Any] = {"operation": case["op"]}
        if "spec" in data:
            entry["spec"] = data["spec"]
        chain = jolt.compile(entry, functions=functions)
    elif runner == "chainr":
        chain = jolt.compile(data["spec"])
    elif runner == "chainr-wrap":
        entry = {"operation": case["op"]}
        if "spec" in data:
            entry["spec"] = data["spec"]
        chain = jolt.compile([entry])
    elif runner == "chainr-slice":
        chain = jolt.compile(data["spec"][data["start"] : data["end"]])
    elif runner == "default-deepcopy":
        chain = jolt.compile({"operation": "default", "spec": data["spec"]})
        first = chain.apply(data["input"])
        first["array"].append("mutated")
        first["map"]["mutated"] = True
    else:
        raise AssertionError(f"unknown runner {runner!r}")

    # The gate is for the compiled path: every entry of every case runs as generated Python.
    assert all(step.compiled for step in chain.steps), [step.describe() for step in chain.steps]
    before = json.dumps(data["input"], sort_keys=True)
    actual = chain.apply(data["input"], context)
    assert json.dumps(data["input"], sort_keys=True) == before, "apply changed its input"
    expected = data[case["expected_key"]] if "expected_key" in case else data["expected"]
    assert _same(
        actual,
        expected,
        any_order=case.get("compare") == "diffy-array-order-oblivious",
        key_order=bool(case.get("check_order")),
    ), f"{case['id']}:\n actual   {json.dumps(actual)}\n expected {json.dumps(expected)}"


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_jolt_fixture(case: dict[str, Any]) -> None:
    if case["runner"] == "skip":
        # Listed in MANIFEST as needing custom Java transform classes; nothing to run in Python.
        pytest.skip(f"Java-only: {case['reason']}")
    if case["id"] in KNOWN_DIVERGENCES:
        with pytest.raises(AssertionError):
            _run(case)
        return
    _run(case)


def test_gate_counts() -> None:
    runnable = [c for c in CASES if c["runner"] != "skip"]
    skipped = [c for c in CASES if c["runner"] == "skip"]
    # Every skip is one the manifest marks Java-specific, with a reason.
    assert all(c.get("java_specific") and c.get("reason") for c in skipped)
    assert len(runnable) == 214 and len(skipped) == 6
    assert set(KNOWN_DIVERGENCES) <= {c["id"] for c in runnable}
