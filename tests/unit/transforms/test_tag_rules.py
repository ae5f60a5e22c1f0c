"""Tag rules: every operator, all/any nesting, and decisions that explain themselves."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from eventsync.registration import Registration, TaggedValue
from eventsync.tags import compile_rule

REG = Registration(
    record={"registrationCode": "R1"},
    status="Confirmed",
    status_tags=("Registered", "Marketo: Sync"),
    attendee_type="VIP",
    attendee_type_tags=("VIP",),
    event={"eventCode": "EV26"},
    event_tags=("Signal",),
    answers={
        "DIET": TaggedValue("Vegan", ("Dietary",)),
        "SESSIONS": TaggedValue(["S1", "S2"], ("Sessions",)),
        "NOTES": TaggedValue("  ", ("Notes",)),
        "OPTIN": TaggedValue(True, ("Consent",)),
    },
    properties={"REGION": TaggedValue("NA", ("Region",)), "EMPTY": TaggedValue(None, ("Blank",))},
)
NEW = Registration(status="New", status_tags=("New",), attendee_type="GEN", attendee_type_tags=())


def _eval(rule: dict[str, Any], current: Registration = REG, previous: Registration | None = None) -> bool:
    compiled = compile_rule(rule)
    decision = compiled.evaluate(current, previous)
    # The fast path used for mapping branches agrees with the explained one.
    assert compiled(current, previous) is decision.matched
    return decision.matched


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"subject": "status", "op": "is", "value": "Registered"}, True),
        ({"subject": "status", "op": "is", "value": "Cancelled"}, False),
        ({"subject": "status", "op": "is_not", "value": "Cancelled"}, True),
        ({"subject": "status", "op": "is_not", "value": "Registered"}, False),
        ({"subject": "status", "op": "is_one_of", "value": ["Cancelled", "Registered"]}, True),
        ({"subject": "status", "op": "is_one_of", "value": ["Cancelled", "Declined"]}, False),
        ({"subject": "status", "op": "contains", "value": "marketo"}, True),
        ({"subject": "status", "op": "contains", "value": "eloqua"}, False),
        ({"subject": "status", "op": "is_empty"}, False),
        ({"subject": "status", "op": "is_not_empty"}, True),
        ({"subject": "attendee_type", "op": "is", "value": "VIP"}, True),
        ({"subject": "attendee_type", "op": "is_not", "value": "Staff"}, True),
        ({"subject": "event", "op": "is", "value": "Signal"}, True),
        ({"subject": "event", "op": "is_empty"}, False),
        ({"subject": "question", "tag": "Dietary", "op": "is", "value": "Vegan"}, True),
        ({"subject": "question", "tag": "Dietary", "op": "is", "value": "vegan"}, False),
        ({"subject": "question", "tag": "Dietary", "op": "is_not", "value": "Vegetarian"}, True),
        ({"subject": "question", "tag": "Sessions", "op": "is", "value": "S2"}, True),
        ({"subject": "question", "tag": "Sessions", "op": "is_one_of", "value": ["S3", "S1"]}, True),
        ({"subject": "question", "tag": "Dietary", "op": "contains", "value": "EGA"}, True),
        ({"subject": "question", "tag": "Notes", "op": "is_empty"}, True),
        ({"subject": "question", "tag": "Notes", "op": "is_not_empty"}, False),
        ({"subject": "question", "tag": "Nobody", "op": "is_empty"}, True),
        ({"subject": "question", "tag": "Consent", "op": "is", "value": "true"}, True),
        ({"subject": "question", "code": "DIET", "op": "is", "value": "Vegan"}, True),
        ({"subject": "question", "code": "MISSING", "op": "is_empty"}, True),
        ({"subject": "property", "tag": "Region", "op": "is", "value": "NA"}, True),
        ({"subject": "property", "tag": "Blank", "op": "is_empty"}, True),
        ({"subject": "property", "code": "REGION", "op": "is_not_empty"}, True),
    ],
)
def test_every_operator(rule: dict[str, Any], expected: bool) -> None:
    assert _eval(rule) is expected


def test_changed_to_needs_a_transition() -> None:
    rule = {"subject": "status", "op": "changed_to", "value": "Registered"}
    assert _eval(rule, REG, NEW) is True  # New -> Confirmed (tagged Registered)
    assert _eval(rule, REG, REG) is False  # no change
    assert _eval(rule, NEW, REG) is False  # moved away
    assert _eval(rule, REG, None) is True  # a new registration counts as a change
    # Two statuses carrying the same tag: moving between them is not a change to that tag.
    other = replace(REG, status="Attended", status_tags=("Registered",))
    assert _eval(rule, other, REG) is False
    at_rule = {"subject": "attendee_type", "op": "changed_to", "value": "VIP"}
    assert _eval(at_rule, REG, NEW) is True


def test_all_and_any_nest_and_the_deciding_rule_is_reported() -> None:
    rule = {
        "all": [
            {"subject": "event", "op": "is", "value": "Signal"},
            {
                "any": [
                    {"subject": "attendee_type", "op": "is", "value": "Staff"},
                    {"subject": "question", "tag": "Dietary", "op": "is", "value": "Vegan"},
                ]
            },
            {"subject": "status", "op": "changed_to", "value": "Registered"},
        ]
    }
    compiled = compile_rule(rule)
    yes = compiled.evaluate(REG, NEW)
    assert yes.matched and yes.rule == "all of 3 rules"

    no = compiled.evaluate(REG, REG)
    assert not no.matched
    assert no.where == "all[2]"
    assert no.rule == "status tags changed to 'Registered'"
    assert "before: 'Confirmed' carried ['Registered', 'Marketo: Sync']" in no.reason
    assert no.explain().startswith("did not match: status tags changed to 'Registered' [all[2]]")

    staff_only = compile_rule({"any": [{"subject": "attendee_type", "op": "is", "value": "Staff"}, rule]})
    d = staff_only.evaluate(REG, NEW)
    assert d.matched and d.where == "any[1]"

    vegan = replace(REG, answers={"DIET": TaggedValue("Omnivore", ("Dietary",))})
    d = compiled.evaluate(vegan, NEW)
    assert not d.matched and d.where == "all[1]"
    assert "none of the 2 rules matched" in d.reason and "Omnivore" in d.reason


def test_single_condition_decision_explains_what_was_seen() -> None:
    d = compile_rule({"subject": "attendee_type", "op": "is", "value": "Staff"}).evaluate(REG)
    assert not d.matched
    assert d.reason == "attendee type 'VIP' carries ['VIP']"
    d = compile_rule({"subject": "question", "tag": "Unknown", "op": "is", "value": "x"}).evaluate(REG)
    assert d.reason == "no question carries tag 'Unknown'"


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ({"subject": "status", "op": "is"}, "takes one value"),
        ({"subject": "status", "op": "is_one_of", "value": "x"}, "non-empty list"),
        ({"subject": "status", "op": "is_one_of", "value": []}, "non-empty list"),
        ({"subject": "status", "op": "is_empty", "value": "x"}, "takes no value"),
        ({"subject": "event", "op": "changed_to", "value": "x"}, "transitions"),
        ({"subject": "question", "op": "is", "value": "x"}, "by `tag` or by `code`"),
        ({"subject": "question", "tag": "a", "code": "b", "op": "is", "value": "x"}, "by `tag` or by `code`"),
        ({"subject": "question", "tag": "a", "op": "changed_to", "value": "x"}, "transitions"),
        ({"subject": "status", "tag": "a", "op": "is", "value": "x"}, "put the tag in `value`"),
        ({"subject": "status", "op": "equals", "value": "x"}, "Input should be"),
        ({"subject": "status", "op": "is", "value": "x", "extra": 1}, "Extra inputs"),
        ({"all": []}, "at least 1"),
        ({"any": [{"subject": "evnt", "op": "is", "value": "x"}]}, "any.0.condition.subject"),
    ],
)
def test_invalid_rules_are_rejected_clearly(rule: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError) as info:
        compile_rule(rule)
    assert words in str(info.value)


def test_scope_document_shape() -> None:
    scope = REG.scope()
    assert scope["answers"]["DIET"] == "Vegan"
    assert scope["properties"]["REGION"] == "NA"
    assert scope["tags"]["status"] == ["Registered", "Marketo: Sync"]
    assert scope["tags"]["answers"]["DIET"] == ["Dietary"]
    assert set(REG.scope({"record"})) == {"record"}
