"""The compiled path against jolt-py, the oracle: generated specs and inputs must agree exactly.

Specs are drawn from the constructs the compiler specialises (literal, `*`, `a*b`, `a|b`, `@`,
`$`, `#`, `&n`, `@(n,path)`, `[]`, `[n]`, `[&n]` in shift; literal, `|`, `*` and `[]` keys in
default; overwrite/default/define with `+ ~ _ ?`, indexes and the stock functions in modify;
remove; sort), and inputs from a small key alphabet so that keys and scalar values collide
with spec keys often. "Agree" is byte-equal JSON: same keys in the same order, 1 is not 1.0.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from eventsync.transforms import TransformError, jolt
from eventsync.transforms.joltc import shift as shift_gen

KEYS = ["a", "b", "c", "ab", "cb", "x", "0", "1", "true"]
scalars = st.one_of(
    st.sampled_from(KEYS),
    st.integers(-3, 3),
    st.sampled_from([None, True, False, 1.5, " a ", "A b", "7", "-2", "2.5", "TRUE", ""]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    ),
    max_leaves=12,
)
inputs = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5)

# --- shift -----------------------------------------------------------------------------------

out_segments = st.sampled_from(
    [
        "o",
        "p",
        "a",
        "&",
        "&0",
        "&1",
        "&2",
        "&(1,1)",
        "&(0,1)",
        "[]",
        "[0]",
        "[1]",
        "[&1]",
        "[&0]",
        "@(1,a)",
        "@(0,b)",
        "@(2,x)",
        "q&1",
    ]
)
rhs_path = st.lists(out_segments, min_size=1, max_size=3).map(".".join)
rhs = st.one_of(rhs_path, st.just(""), st.lists(rhs_path, min_size=1, max_size=2))
lhs_keys = st.sampled_from(KEYS + ["*", "a*", "*b", "c*b", "a*b*", "a|b", "x|0", "*|c", "&1", "&0"])
special_keys = st.sampled_from(["@", "$", "$1", "#const", "#7", "@(1,a)", "@b"])
transposed = st.dictionaries(
    st.sampled_from(["@(1,a)", "@(2,b)"]), st.dictionaries(lhs_keys, rhs, min_size=1), max_size=1
)


def _shift_node(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    child: st.SearchStrategy[Any] = (
        rhs if depth >= 2 else st.one_of(rhs, st.deferred(lambda: _shift_node(depth + 1)))
    )
    regular = st.dictionaries(lhs_keys, child, min_size=1, max_size=3)
    specials = st.dictionaries(special_keys, rhs, max_size=1)
    return st.builds(lambda r, s, t: {**r, **s, **t}, regular, specials, transposed)


shift_specs = _shift_node(0).map(lambda s: {"operation": "shift", "spec": s})

# --- default ---------------------------------------------------------------------------------

default_leaf = st.one_of(scalars, st.just([]), st.just({"k": 1}), st.just([1, {"z": None}]))
default_spec = st.recursive(
    st.dictionaries(st.sampled_from(["a", "b", "c", "a|b", "*", "x"]), default_leaf, min_size=1, max_size=3),
    lambda inner: st.dictionaries(
        st.sampled_from(["a", "b", "*", "a|c", "arr[]", "x"]),
        st.one_of(default_leaf, inner),
        min_size=1,
        max_size=3,
    ),
    max_leaves=6,
)
default_specs = default_spec.map(lambda s: {"operation": "default", "spec": s})

# --- modify ----------------------------------------------------------------------------------

functions = st.sampled_from(
    [
        "=toUpper",
        "=toLower",
        "=trim",
        "=toInteger",
        "=toBoolean",
        "=toString",
        "=toDouble",
        "=size",
        "=concat(@(1,a),'-',@(1,b))",
        "=concat(@(1,a),@(1,c))",
        "=concat",
        "=join(',',@(1,a),@(1,b))",
        "@(1,a)",
        "@(2,b)",
        "^ctx",
        "^ctx.deep",
        "=toUpper(@(1,b))",
        "=trim(@(1,c))",
        "=firstElement(@(1,a))",
        "=notNull",
        "=squashNulls",
        "literal",
    ]
)
modify_leaf = st.one_of(functions, st.lists(functions, min_size=1, max_size=2), st.integers(0, 3))
modify_keys = st.sampled_from(["a", "b", "c", "*", "+a", "~b", "_c", "a?", "*?", "a*", "b|c"])
modify_spec = st.recursive(
    st.dictionaries(modify_keys, modify_leaf, min_size=1, max_size=3),
    lambda inner: st.one_of(
        st.dictionaries(modify_keys, st.one_of(modify_leaf, inner), min_size=1, max_size=3),
        st.dictionaries(
            st.sampled_from(["[0]", "[1]", "[2]"]), st.one_of(modify_leaf, inner), min_size=1, max_size=2
        ),
    ),
    max_leaves=6,
)
modify_ops = st.sampled_from(["modify-overwrite-beta", "modify-default-beta", "modify-define-beta"])
modify_specs = st.builds(lambda op, s: {"operation": op, "spec": s}, modify_ops, modify_spec)

# --- remove, sort ----------------------------------------------------------------------------

remove_spec = st.recursive(
    st.dictionaries(
        st.sampled_from(["a", "b", "*", "a*", "0", "1", "a|c"]), st.just(""), min_size=1, max_size=3
    ),
    lambda inner: st.dictionaries(
        st.sampled_from(["a", "b", "*", "c*", "0"]), st.one_of(st.just(""), inner), min_size=1, max_size=3
    ),
    max_leaves=5,
)
remove_specs = remove_spec.map(lambda s: {"operation": "remove", "spec": s})
sort_specs = st.just({"operation": "sort"})
cardinality_spec = st.recursive(
    st.dictionaries(
        st.sampled_from(["a", "b", "*", "a*", "@", "0", "*b*"]), st.sampled_from(["ONE", "MANY"]), min_size=1
    ),
    lambda inner: st.dictionaries(
        st.sampled_from(["a", "b", "*", "c*", "0"]),
        st.one_of(st.sampled_from(["ONE", "MANY"]), inner),
        min_size=1,
    ),
    max_leaves=5,
)
cardinality_specs = cardinality_spec.map(lambda s: {"operation": "cardinality", "spec": s})

entries = st.one_of(
    shift_specs, shift_specs, default_specs, modify_specs, modify_specs, remove_specs, sort_specs
)
chains = st.lists(entries, min_size=1, max_size=3)
contexts = st.one_of(st.none(), st.fixed_dictionaries({"ctx": json_values}), st.just({"ctx": {"deep": "D"}}))


def _text(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=True)
    except ValueError:
        # A shift that writes one input list twice appends it to itself, in jolt-py as in Java
        # Jolt; the compiled chain must do the same (keep the sharing), so both are circular.
        return "<circular>"


def _oracle(chain: jolt.JoltChain, data: Any, context: Any) -> tuple[str, Any]:
    try:
        return "ok", chain.apply_interpreted(data, context)
    except Exception as exc:  # noqa: BLE001 - any failure of the oracle is an expected failure
        return "error", exc


def _check(spec: list[dict[str, Any]], data: Any, context: Any) -> None:
    try:
        chain = jolt.compile(spec)
    except TransformError:
        assume(False)
        return
    before = _text(data)
    kind, expected = _oracle(chain, copy.deepcopy(data), context)
    if kind == "error":
        try:
            chain.apply(data, context)
        except TransformError:
            return
        raise AssertionError(f"jolt-py failed ({expected!r}) but the compiled chain did not")
    actual = chain.apply(data, context)
    assert _text(data) == before, "the compiled chain changed its input"
    assert _text(actual) == _text(expected), (
        f"\nspec     {_text(spec)}\ninput    {before}\ncompiled {_text(actual)}\njolt-py  {_text(expected)}\n"
        f"steps    {[s.describe() for s in chain.steps]}"
    )


SETTINGS = settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@SETTINGS
@given(chains, inputs, contexts)
@example(  # `@` puts the input at the root, keys and all: `a` then lands on an existing "o"
    [
        {"operation": "shift", "spec": {"a": "o", "@": ""}},
        {"operation": "shift", "spec": {"a": "o", "@": ""}},
    ],
    {"a": "a"},
    None,
)
def test_compiled_chains_equal_jolt_py(spec: list[dict[str, Any]], data: Any, context: Any) -> None:
    _check(spec, data, context)


@SETTINGS
@given(shift_specs, inputs)
def test_compiled_shift_equals_jolt_py(entry: dict[str, Any], data: Any) -> None:
    _check([entry], data, None)


@settings(SETTINGS, max_examples=1500)
@given(st.lists(st.one_of(modify_specs, default_specs), min_size=1, max_size=2), inputs, contexts)
@example(
    [{"operation": "modify-default-beta", "spec": {"a": 1, "b": "@(1,a)"}}],
    {"a": None, "b": None, "c": 1},
    None,
)
@example(
    [{"operation": "modify-define-beta", "spec": {"a": 1, "*": {"[1]": 2}}}], {"a": None, "b": [None]}, None
)
def test_compiled_modify_and_default_equal_jolt_py(
    spec: list[dict[str, Any]], data: Any, context: Any
) -> None:
    _check(spec, data, context)


@settings(SETTINGS, max_examples=400)
@given(st.lists(shift_specs, min_size=1, max_size=2), inputs)
def test_compiled_shift_with_one_shared_loop_equals_jolt_py(spec: list[dict[str, Any]], data: Any) -> None:
    """Deep wildcard nesting shares one loop for objects and arrays; force it for every spec."""
    split = shift_gen.SPLIT_LOOPS
    shift_gen.SPLIT_LOOPS = -1
    jolt._CACHE.clear()
    try:
        _check(spec, data, None)
    finally:
        shift_gen.SPLIT_LOOPS = split
        jolt._CACHE.clear()


def test_the_generated_specs_are_compiled_not_interpreted() -> None:
    """The property tests exercise generated code: these shapes are all specialised."""
    chain = jolt.compile(
        [
            {"operation": "shift", "spec": {"a*": {"$": "k.&(1,1)", "@": "v[]"}, "*": {"b": "o.@(1,a).&1"}}},
            {"operation": "default", "spec": {"arr[]": {"1": 0}, "a|b": {"*": 1}}},
            {
                "operation": "modify-define-beta",
                "spec": {"o": {"*": "=concat(@(1,a),'-')"}, "arr": {"[0]": 1}},
            },
            {"operation": "remove", "spec": {"k": {"*": ""}}},
            {"operation": "sort"},
            {"operation": "cardinality", "spec": {"*": {"@": "MANY", "a*": "ONE"}}},
            {
                "operation": "shift",
                "spec": {"*": {"*": {"$": "out[#2].k", "@(1,a)": {"*": "t.&"}}, "&": "n"}},
            },
        ]
    )
    assert all(step.compiled for step in chain.steps), [s.describe() for s in chain.steps]
