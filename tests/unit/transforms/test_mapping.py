"""Flow mappings: sources, defaults, branches by tag, Advanced Webhook bodies, errors."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from jsonpath_ng.ext import parse as jsonpath_parse

from eventsync.definitions.common import Strict
from eventsync.registration import Registration, TaggedValue
from eventsync.transforms import TransformError
from eventsync.transforms.mapping import CompiledMapping, FieldSource, FlowMapping, compile_mapping
from eventsync.transforms.paths import MISSING, compile_path

REG = Registration(
    record={
        "registrationCode": "R1",
        "profile": {
            "email": " Ann@Example.com ",
            "firstName": "Ann",
            "lastName": "Lee",
            "organization": "",
            "position": None,
            "address": {"city": "Boston"},
        },
        "items": [{"sku": "A"}, {"sku": "B"}],
        "weird key.x": 1,
    },
    status="Confirmed",
    status_tags=("Registered",),
    attendee_type="VIP",
    attendee_type_tags=("VIP",),
    event={"eventCode": "EV26", "name": "Summit"},
    event_tags=("Signal",),
    answers={"DIET": TaggedValue("Vegan", ("Dietary",)), "SESSIONS": TaggedValue(["S1", "S2"])},
    properties={"REGION": TaggedValue("NA", ("Region",))},
)


def _fields(fields: dict[str, Any], reg: Registration = REG) -> dict[str, Any]:
    result = compile_mapping({"fields": fields}, flow="f")(reg)
    assert isinstance(result, dict)
    return result


def test_mapping_models_are_strict_definition_models() -> None:
    assert issubclass(FlowMapping, Strict) and issubclass(FieldSource, Strict)
    with pytest.raises(TransformError, match="Extra inputs"):
        compile_mapping({"fields": {"a": {"path": "$.x", "pth": "$.y"}}}, flow="f")
    with pytest.raises(TransformError, match="either `fields`"):
        compile_mapping({}, flow="f")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("$.record.profile.firstName", "Ann"),
        ("record.profile.firstName", "Ann"),  # $. may be left out
        ("$['record']['profile'][\"lastName\"]", "Lee"),
        ("$.record.items[1].sku", "B"),
        ("$.record['weird key.x']", 1),
        ("$.event.eventCode", "EV26"),
        ("$.answers.DIET", "Vegan"),
        ("$.answers.SESSIONS", ["S1", "S2"]),
        ("$.properties.REGION", "NA"),
        ("$.status", "Confirmed"),
        ("$.attendee_type", "VIP"),
        ("$.tags.status[0]", "Registered"),
        ("$.tags.answers.DIET[0]", "Dietary"),
        ("$.record.profile.position", None),  # a JSON null is a value
        # general JSONPath: always the list of matches
        ("$.record.items[*].sku", ["A", "B"]),
        ("$.record.items[?(@.sku == 'B')].sku", ["B"]),
        ("$..city", ["Boston"]),
        ("$.tags.event[*]", ["Signal"]),
    ],
)
def test_path_sources(source: str, expected: Any) -> None:
    assert _fields({"out": source}) == {"out": expected}


def test_missing_paths_leave_the_field_out_and_defaults_fill_it() -> None:
    out = _fields(
        {
            "a": "$.record.nothing",
            "b": "$.record.items[9].sku",
            "c": "$.record.items[*].nope",
            "d": {"path": "$.record.nothing", "default": "fallback"},
            "e": {"path": "$.record.profile.organization", "default": "n/a"},  # empty text
            "f": {"path": "$.record.profile.position", "default": "Attendee"},  # null
            "g": {"default": {"nested": [1]}},  # a default alone is a constant
            "h": {"value": "const"},
            "i": {"value": None},
            "j": {"value": [1, {"x": 2}]},
        }
    )
    assert out == {
        "d": "fallback",
        "e": "n/a",
        "f": "Attendee",
        "g": {"nested": [1]},
        "h": "const",
        "i": None,
        "j": [1, {"x": 2}],
    }


def test_constants_are_fresh_for_every_record() -> None:
    mapping = compile_mapping({"fields": {"j": {"value": {"list": []}}}}, flow="f")
    first = mapping(REG)
    first["j"]["list"].append("mutated")
    assert mapping(REG) == {"j": {"list": []}}


def test_concat_and_first_non_empty() -> None:
    out = _fields(
        {
            "name": {"concat": ["$.record.profile.firstName", "$.record.profile.lastName"], "separator": " "},
            "skipped": {
                "concat": ["$.nothing", "$.record.profile.organization", "$.event.name"],
                "separator": "/",
            },
            "lists": {"concat": ["$.answers.SESSIONS", {"value": 7}, {"value": True}], "separator": ","},
            "nested": {
                "concat": [{"path": "$.record.profile.email", "transforms": ["trim"]}, {"value": "!"}],
                "transforms": ["upper"],
            },
            "empty": {"concat": ["$.nothing"], "default": "none"},
            "first": {
                "first_non_empty": [
                    "$.record.profile.organization",
                    "$.record.profile.position",
                    "$.event.name",
                ]
            },
            "none": {"first_non_empty": ["$.nothing", "$.record.profile.position"]},
            "none_default": {"first_non_empty": ["$.nothing"], "default": "x"},
        }
    )
    assert out == {
        "name": "Ann Lee",
        "skipped": "Summit",
        "lists": "S1,S2,7,true",
        "nested": "ANN@EXAMPLE.COM!",
        "empty": "none",
        "first": "Summit",
        "none_default": "x",
    }


def test_concat_refuses_objects() -> None:
    with pytest.raises(TransformError, match="concat cannot join an object"):
        _fields({"bad": {"concat": ["$.record.profile.address"]}})


BRANCHED = {
    "fields": {
        "email": {"path": "$.record.profile.email", "transforms": ["trim", "lower"]},
        "leadSource": {"value": "Event"},
        "diet": "$.answers.DIET",
    },
    "branches": [
        {
            "when": {"subject": "attendee_type", "op": "is", "value": "Staff"},
            "fields": {"leadSource": {"value": "Internal"}},
            "omit": ["diet"],
        },
        {
            "when": {
                "all": [
                    {"subject": "status", "op": "is", "value": "Registered"},
                    {"subject": "attendee_type", "op": "is", "value": "VIP"},
                ]
            },
            "fields": {"leadSource": {"value": "VIP"}, "vip": {"value": True}},
        },
    ],
}


def test_branches_by_tag_first_match_overlays_the_base() -> None:
    mapping = compile_mapping(BRANCHED, flow="mkto")
    assert mapping(REG) == {"email": "ann@example.com", "leadSource": "VIP", "diet": "Vegan", "vip": True}
    assert mapping.branch_for(REG) == 1

    staff = replace(REG, attendee_type="STF", attendee_type_tags=("Staff", "VIP"))
    assert mapping(staff) == {"email": "ann@example.com", "leadSource": "Internal"}  # first match wins
    assert mapping.branch_for(staff) == 0

    plain = replace(REG, attendee_type="GEN", attendee_type_tags=())
    assert mapping(plain) == {"email": "ann@example.com", "leadSource": "Event", "diet": "Vegan"}
    assert mapping.branch_for(plain) is None


def test_branch_with_changed_to_uses_the_previous_record() -> None:
    mapping = compile_mapping(
        {
            "fields": {"event": {"value": "updated"}},
            "branches": [
                {
                    "when": {"subject": "status", "op": "changed_to", "value": "Registered"},
                    "fields": {"event": {"value": "registered"}},
                }
            ],
        },
        flow="f",
    )
    before = replace(REG, status="New", status_tags=("New",))
    assert mapping(REG, before) == {"event": "registered"}
    assert mapping(REG, REG) == {"event": "updated"}


def test_advanced_webhook_body_binds_template_leaves() -> None:
    template = {
        "contact": {"email": "sample@example.com", "name": "Sample", "tags": ["a", "b"]},
        "event": {"code": "X", "source": "certain"},
        "items": [{"sku": "S", "qty": 1}],
        "meta": {"dotted.key": "d"},
    }
    mapping = compile_mapping(
        {
            "body": {
                "template": template,
                "bind": {
                    "contact.email": {"path": "$.record.profile.email", "transforms": ["trim"]},
                    "contact.name": {
                        "concat": ["$.record.profile.firstName", "$.record.profile.lastName"],
                        "separator": " ",
                    },
                    "contact.tags[1]": "$.status",
                    "event.code": "$.event.eventCode",
                    "items[0].sku": "$.record.nothing",
                    "/meta/dotted.key": {"value": 7},
                },
            },
            "branches": [
                {
                    "when": {"subject": "attendee_type", "op": "is", "value": "VIP"},
                    "bind": {"event.source": {"value": "vip"}, "contact.tags[0]": "$.answers.nothing"},
                }
            ],
        },
        flow="aw",
    )
    plain = replace(REG, attendee_type_tags=())
    assert mapping(plain) == {
        "contact": {"email": "Ann@Example.com", "name": "Ann Lee", "tags": ["a", "Confirmed"]},
        "event": {"code": "EV26", "source": "certain"},
        "items": [{"qty": 1}],  # a missing value leaves its key out of an object
        "meta": {"dotted.key": 7},
    }
    vip = mapping(REG)
    assert vip["event"]["source"] == "vip"
    assert vip["contact"]["tags"] == [None, "Confirmed"]  # ... and is null in a list
    # The template's constants are not shared between records.
    vip["event"]["code"] = "mutated"
    assert mapping(plain)["items"] == [{"qty": 1}]
    assert template["contact"]["email"] == "sample@example.com"


def test_unbound_body_is_the_template() -> None:
    mapping = compile_mapping({"body": {"template": [1, {"a": "b"}]}}, flow="aw")
    assert mapping(REG) == [1, {"a": "b"}]


@pytest.mark.parametrize(
    ("mapping", "field", "words"),
    [
        ({"fields": {"Email": "$.record[?("}}, "Email", "is not valid JSONPath"),
        ({"fields": {"Email": ""}}, "Email", "empty expression"),
        (
            {
                "fields": {"A": "$.a"},
                "branches": [{"when": {"subject": "status", "op": "is_empty"}, "fields": {"B": "$.x["}}],
            },
            "branches[0].fields.B",
            "is not valid JSONPath",
        ),
        ({"fields": {"N": {"concat": ["$.ok", "$.bad["]}}}, "N", "'$.bad['"),
        (
            {"body": {"template": {"a": 1}, "bind": {"b": "$.x"}}},
            "body.bind['b']",
            "not a node of the body template",
        ),
        ({"body": {"template": {"a": [1]}, "bind": {"a[3]": "$.x"}}}, "body.bind['a[3]']", "not a node"),
        (
            {"body": {"template": {"a": {"b": 1}}, "bind": {"a": "$.x", "a.b": "$.y"}}},
            "body.a.b",
            "bound inside",
        ),
        (
            {"body": {"template": {"a": 1}, "bind": {"a[x]": "$.x"}}},
            "body.bind['a[x]']",
            "indexes are written",
        ),
    ],
)
def test_compile_errors_name_flow_field_and_expression(
    mapping: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(TransformError) as info:
        compile_mapping(mapping, flow="marketo-leads")
    err = info.value
    assert err.flow == "marketo-leads" and "flow 'marketo-leads'" in str(err)
    assert err.field == field
    assert words in str(err)


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"fields": {"a": {"path": "$.x", "value": 1}}}, "not path and value"),
        ({"fields": {"a": {}}}, "give a path"),
        ({"fields": {"a": {"path": "$.x", "separator": ","}}}, "separator goes with concat"),
        ({"fields": {"a": {"concat": []}}}, "at least one source"),
        ({"fields": {"a": "$.x"}, "body": {"template": {}}}, "either `fields`"),
        (
            {
                "fields": {"a": "$.x"},
                "branches": [{"when": {"subject": "status", "op": "is_empty"}, "omit": ["zz"]}],
            },
            "zz",
        ),
        (
            {
                "fields": {"a": "$.x"},
                "branches": [{"when": {"subject": "status", "op": "is_empty"}, "bind": {"a": "$.x"}}],
            },
            "bind",
        ),
        (
            {
                "body": {"template": {}},
                "branches": [{"when": {"subject": "status", "op": "is_empty"}, "fields": {"a": "$.x"}}],
            },
            "use `bind`",
        ),
        (
            {"fields": {"a": "$.x"}, "branches": [{"when": {"subject": "status", "op": "nope"}}]},
            "branches.0.when",
        ),
    ],
)
def test_invalid_mapping_definitions(mapping: dict[str, Any], words: str) -> None:
    with pytest.raises(TransformError) as info:
        compile_mapping(mapping, flow="f")
    assert words in str(info.value)


def test_runtime_errors_name_flow_field_and_expression() -> None:
    mapping = compile_mapping(
        {
            "fields": {
                "ok": "$.record.registrationCode",
                "score": {"path": "$.properties.REGION", "transforms": ["number"]},
            }
        },
        flow="hubspot",
    )
    with pytest.raises(TransformError) as info:
        mapping(REG)
    err = info.value
    assert (err.flow, err.field, err.expression) == ("hubspot", "score", "$.properties.REGION")
    assert str(err) == "flow 'hubspot', field 'score' ($.properties.REGION): 'NA' is not a number"


def test_compiled_mapping_accepts_models_and_reads_only_what_it_needs() -> None:
    model = FlowMapping.model_validate({"fields": {"a": "$.record.registrationCode", "b": "$.event.name"}})
    mapping = compile_mapping(model, flow="f")
    assert isinstance(mapping, CompiledMapping)
    assert mapping._roots == frozenset({"record", "event"})
    assert mapping(REG) == {"a": "R1", "b": "Summit"}
    general = compile_mapping({"fields": {"a": "$..sku"}}, flow="f")
    assert general._roots is None


SIMPLE_EXPRESSIONS = [
    "$",
    "$.a",
    "$.a.b",
    "$.a.b.c",
    "$.a[0]",
    "$.a[1].b",
    "$['a']['b']",
    '$["a"][0]',
    "$.a-b",
    "$._x",
    "$.a[2][0]",
]
DOCS: list[Any] = [
    {},
    {"a": None},
    {"a": {"b": {"c": 1}}},
    {"a": [{"b": 2}, {"b": None}, [5]]},
    {"a": "text"},
    {"a": {"b": [1, 2]}, "a-b": 3, "_x": False},
    {"a": [[0, 1], {"b": {"c": []}}]},
    {"a": {"0": "zero"}},
    [1, 2],
    "scalar",
]


@pytest.mark.parametrize("expression", SIMPLE_EXPRESSIONS)
def test_fast_path_agrees_with_jsonpath_ng(expression: str) -> None:
    compiled = compile_path(expression)
    assert compiled.simple
    reference = jsonpath_parse(expression)
    mapping = compile_mapping({"fields": {"v": expression}}, flow="f")
    for doc in DOCS:
        matches = [m.value for m in reference.find(doc)]
        expected = matches[0] if matches else MISSING
        assert compiled.find(doc) == expected or (compiled.find(doc) is MISSING and expected is MISSING)
        generated = mapping.apply_scope(doc).get("v", MISSING)
        assert generated == expected or (generated is MISSING and expected is MISSING), (expression, doc)


def test_general_paths_use_jsonpath_ng() -> None:
    for expression in ("$.a[*]", "$..b", "$.a[?(@.b > 1)]", "$.a[0:2]", "$.a[-1]"):
        assert not compile_path(expression).simple
