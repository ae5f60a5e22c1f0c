"""Our Jolt surface: compile once, apply many, errors that say where."""

from __future__ import annotations

import copy
import json

import pytest

from eventsync.transforms import TransformError, jolt

SHIFT = {"operation": "shift", "spec": {"name": "fullName", "age": "years"}}


def _error(spec: object) -> TransformError:
    with pytest.raises(TransformError) as info:
        jolt.compile(spec)
    return info.value


def test_chain_and_single_operation_forms() -> None:
    data = {"name": "Ann", "age": 30}
    assert jolt.compile([SHIFT]).apply(data) == {"fullName": "Ann", "years": 30}
    assert jolt.compile(SHIFT).apply(data) == {"fullName": "Ann", "years": 30}
    chain = jolt.compile([SHIFT, {"operation": "default", "spec": {"years": 0}}, {"operation": "sort"}])
    assert chain.operations == ("shift", "default", "sort") and len(chain) == 3
    assert chain.apply({"name": "Bo"}) == {"fullName": "Bo", "years": 0}


def test_apply_never_touches_its_input_and_outputs_are_independent() -> None:
    chain = jolt.compile({"operation": "default", "spec": {"tags": [], "profile": {"city": "Boston"}}})
    data = {"profile": {"name": "Ann"}}
    snapshot = copy.deepcopy(data)
    first = chain.apply(data)
    first["tags"].append("x")
    first["profile"]["city"] = "changed"
    assert data == snapshot
    assert chain.apply(data) == {"profile": {"name": "Ann", "city": "Boston"}, "tags": []}


def test_context_reaches_modify_specs() -> None:
    chain = jolt.compile({"operation": "modify-overwrite-beta", "spec": {"event": "^eventCode"}})
    assert chain.apply({}, context={"eventCode": "EV26"}) == {"event": "EV26"}


def test_custom_functions_reach_modify_operations() -> None:
    chain = jolt.compile(
        {"operation": "modify-overwrite-beta", "spec": {"n": "=double(@(1,n))"}},
        functions={"double": lambda n: n * 2},
    )
    assert chain.apply({"n": 21}) == {"n": 42}
    with pytest.raises(TransformError, match="callable"):
        jolt.compile(SHIFT, functions={"x": 5})  # type: ignore[dict-item]


def test_java_class_names_are_accepted_and_non_java_aliases_are_not() -> None:
    assert jolt.compile({"operation": "com.bazaarvoice.jolt.Shiftr", "spec": {"a": "b"}}).apply({"a": 1}) == {
        "b": 1
    }
    err = _error({"operation": "modify-overwrite", "spec": {}})
    assert err.index == 0 and err.path == "/operation"


def test_unknown_modify_function_compiles_with_a_warning_as_in_java() -> None:
    chain = jolt.compile({"operation": "modify-overwrite-beta", "spec": {"a": "=nonnull"}})
    assert chain.apply({"a": 1}) == {"a": 1}
    assert any("nonnull" in w for w in chain.warnings)


@pytest.mark.parametrize(
    ("spec", "index", "path", "words"),
    [
        ([], None, "", "empty"),
        ("shift", None, "", "chain"),
        ([SHIFT, "shift"], 1, "", "object"),
        ([SHIFT, {"spec": {}}], 1, "/operation", "missing 'operation'"),
        ([SHIFT, {"operation": "shiftr", "spec": {}}], 1, "/operation", "unknown operation 'shiftr'"),
        ([{"operation": ["shift"]}], 0, "/operation", "unknown operation"),
        ([SHIFT, SHIFT, {"operation": "default"}], 2, "/spec", "needs a 'spec'"),
        ([{"operation": "shift", "spec": None}], 0, "/spec", "needs a 'spec'"),
        ([{"operation": "shift", "spec": [1]}], 0, "/spec", "invalid shift spec"),
        ([SHIFT, {"operation": "shift", "spec": {"a": {"b": 5}}}], 1, "/spec/a/b", "Shiftr spec RHS"),
        ([{"operation": "remove", "spec": {"x": {"y": "eh?"}}}], 0, "/spec/x/y", "Removr"),
        (
            [{"operation": "cardinality", "spec": {"photos": {"url": "pants"}}}],
            0,
            "/spec/photos/url",
            "Cardinality",
        ),
        ([{"operation": "shift", "spec": {"a/b": {"c~d": 5}}}], 0, "/spec/a~1b/c~0d", "RHS"),
        (
            # Siblings that conflict: the fault is their parent.
            [{"operation": "modify-default-beta", "spec": {"thumb": {"[1]": {"l": "x"}, "*a": {"l": "y"}}}}],
            0,
            "/spec/thumb",
            "cannot mix",
        ),
    ],
)
def test_invalid_specs_name_the_chain_index_and_the_path(
    spec: object, index: int | None, path: str, words: str
) -> None:
    err = _error(spec)
    assert err.index == index
    assert err.path == path
    assert words in str(err)
    if index is not None:
        assert f"chain[{index}]" in str(err)


def test_sort_needs_no_spec() -> None:
    chain = jolt.compile([{"operation": "sort"}])
    assert list(chain.apply({"b": 1, "a": 2})) == ["a", "b"]


def test_a_failure_while_applying_names_the_step() -> None:
    deep: dict[str, object] = {}
    node = deep
    for _ in range(5000):  # deeper than Python's recursion limit
        child: dict[str, object] = {}
        node["a"] = child
        node = child
    chain = jolt.compile([{"operation": "default", "spec": {"b": 1}}])
    with pytest.raises(TransformError) as info:
        chain.apply(deep)
    assert info.value.index == 0 and "chain[0] (default)" in str(info.value)


def test_a_compiled_chain_is_reusable_and_printable() -> None:
    chain = jolt.compile([SHIFT])
    outs = [chain.apply({"name": n}) for n in ("a", "b", "c")]
    assert outs == [{"fullName": "a"}, {"fullName": "b"}, {"fullName": "c"}]
    assert "shift" in repr(chain)
    json.dumps(outs)
