"""Property-based: arbitrary JSON into compiled Jolt chains, specs and mappings.

The only exception that may ever escape is TransformError. Example counts stay modest so
the suite stays fast; the fixture specs give the Jolt side wide coverage of spec shapes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventsync.links import first_link
from eventsync.registration import Registration, TaggedValue
from eventsync.tags import compile_rule
from eventsync.transforms import TransformError, jolt
from eventsync.transforms.mapping import compile_mapping

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import transforms as bench  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jolt"

# EVENTSYNC_HYPOTHESIS_EXAMPLES=5000 for a deeper run by hand.
SETTINGS = settings(
    max_examples=int(os.environ.get("EVENTSYNC_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

KEYS = st.sampled_from(
    ["a", "b", "id", "profile", "email", "*", "0", "rating", "photos", "x.y", "&", "@"]
) | st.text(max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=4),
    max_leaves=20,
)


def _fixture_chains() -> list[jolt.JoltChain]:
    manifest = json.loads((FIXTURES / "MANIFEST.json").read_text())
    chains = [jolt.compile(bench.JOLT_CHAIN)]
    for case in manifest["cases"]:
        data = json.loads((FIXTURES / case["file"]).read_text())
        if case["runner"] == "transform" and not case.get("custom_functions"):
            entry = {"operation": case["op"], "spec": data.get("spec", {})}
            chains.append(jolt.compile(entry))
        elif case["runner"] == "chainr":
            chains.append(jolt.compile(data["spec"]))
    return chains


CHAINS = _fixture_chains()


@SETTINGS
@given(
    index=st.integers(0, len(CHAINS) - 1),
    data=JSON,
    context=st.none() | st.dictionaries(KEYS, JSON, max_size=3),
)
def test_compiled_chains_on_arbitrary_json(index: int, data: Any, context: Any) -> None:
    before = json.dumps(data, sort_keys=True)
    try:
        out = CHAINS[index].apply(data, context)
    except TransformError:
        return
    assert json.dumps(data, sort_keys=True) == before
    json.dumps(out)  # still plain JSON


OPS = st.sampled_from(
    [
        "shift",
        "default",
        "remove",
        "sort",
        "cardinality",
        "modify-overwrite-beta",
        "modify-default-beta",
        "modify-define-beta",
        "nope",
    ]
)
ENTRY = st.fixed_dictionaries({"operation": OPS}, optional={"spec": JSON}) | JSON


@SETTINGS
@given(spec=st.lists(ENTRY, max_size=3) | ENTRY, data=JSON)
def test_arbitrary_specs_compile_or_raise_transform_error(spec: Any, data: Any) -> None:
    try:
        chain = jolt.compile(spec)
    except TransformError as err:
        assert str(err)
        return
    try:
        chain.apply(data)
    except TransformError:
        pass


MAPPINGS = [
    compile_mapping(bench.MAPPING, flow="bench"),
    compile_mapping(
        {
            "fields": {
                "t": {"path": "$.a", "transforms": ["trim", "lower", "upper"]},
                "d": {
                    "path": "$.b",
                    "transforms": [{"op": "date", "tz": "Europe/Paris", "format": "%Y-%m-%d"}],
                },
                "l": {
                    "path": "$.a",
                    "transforms": [{"op": "lookup", "table": {"x": 1}, "ignore_case": True}],
                },
                "n": {"path": "$.id", "transforms": [{"op": "number", "integer": True}]},
                "bo": {"path": "$.email", "transforms": ["boolean"]},
                "c": {"concat": ["$.a", "$.b", "$.profile.email"], "separator": "-"},
                "f": {"first_non_empty": ["$.x", "$.a", {"value": 0}], "default": 1},
                "g": "$..email",
                "w": "$.a[*].b",
            }
        },
        flow="all-transforms",
    ),
    compile_mapping(
        {
            "body": {
                "template": {"contact": {"email": "", "tags": ["", ""]}, "n": 0},
                "bind": {
                    "contact.email": "$.email",
                    "contact.tags[1]": "$.a.b",
                    "n": {"path": "$.id", "transforms": ["number"]},
                },
            }
        },
        flow="body",
    ),
]


@SETTINGS
@given(index=st.integers(0, len(MAPPINGS) - 1), scope=JSON)
def test_compiled_mappings_on_arbitrary_json(index: int, scope: Any) -> None:
    try:
        out = MAPPINGS[index].apply_scope(scope)
    except TransformError as err:
        assert err.flow and err.field and err.expression
        return
    json.dumps(out)


TAGS = st.lists(st.sampled_from(["Staff", "VIP", "Registered", "Marketo: Registered", "x"]), max_size=3).map(
    tuple
)


@SETTINGS
@given(
    index=st.integers(0, len(MAPPINGS) - 1),
    record=st.dictionaries(KEYS, JSON, max_size=4),
    answers=st.dictionaries(KEYS, JSON, max_size=3),
    status_tags=TAGS,
    attendee_tags=TAGS,
)
def test_compiled_mappings_on_arbitrary_registrations(
    index: int,
    record: dict[str, Any],
    answers: dict[str, Any],
    status_tags: tuple[str, ...],
    attendee_tags: tuple[str, ...],
) -> None:
    reg = Registration(
        record=record,
        status_tags=status_tags,
        attendee_type_tags=attendee_tags,
        answers={k: TaggedValue(v, ("Dietary",)) for k, v in answers.items()},
        properties={k: TaggedValue(v) for k, v in answers.items()},
    )
    try:
        MAPPINGS[index](reg)
    except TransformError:
        pass


@SETTINGS
@given(definition=JSON | st.fixed_dictionaries({"fields": st.dictionaries(KEYS, JSON, max_size=3)}))
def test_arbitrary_mapping_definitions_compile_or_raise_transform_error(definition: Any) -> None:
    try:
        mapping = compile_mapping(
            definition if isinstance(definition, dict) else {"fields": definition}, flow="f"
        )
    except TransformError:
        return
    try:
        mapping.apply_scope({"a": 1})
    except TransformError:
        pass


RULE = compile_rule(
    {
        "any": [
            {"subject": "question", "tag": "Dietary", "op": "contains", "value": "veg"},
            {
                "all": [
                    {"subject": "status", "op": "changed_to", "value": "Registered"},
                    {"subject": "property", "code": "a", "op": "is_not_empty"},
                ]
            },
        ]
    }
)


@SETTINGS
@given(answers=st.dictionaries(KEYS, JSON, max_size=3), status_tags=TAGS, before=TAGS)
def test_rules_on_arbitrary_answers_always_decide(
    answers: dict[str, Any], status_tags: tuple[str, ...], before: tuple[str, ...]
) -> None:
    reg = Registration(
        status_tags=status_tags,
        answers={k: TaggedValue(v, ("Dietary",)) for k, v in answers.items()},
        properties={k: TaggedValue(v) for k, v in answers.items()},
    )
    decision = RULE.evaluate(reg, Registration(status_tags=before))
    assert decision.matched is RULE(reg, Registration(status_tags=before))
    assert decision.explain()


LINKY = st.lists(
    st.sampled_from(
        [
            '<a href="',
            "javascript:",
            "https://",
            "http://ex.com",
            "](",
            "[",
            "<",
            ">",
            '"',
            "&amp;",
            "&#",
            " ",
            "a",
            ")",
        ]
    )
    | st.text(max_size=5),
    max_size=12,
).map("".join)


@SETTINGS
@given(value=LINKY | st.text(max_size=40))
def test_links_never_raise_and_only_give_web_urls(value: str) -> None:
    result = first_link(value)
    if result.link is None:
        assert result.reason
    else:
        parts = urlsplit(result.link.url)
        assert parts.scheme.lower() in ("http", "https") and parts.hostname
        assert result.link.title
