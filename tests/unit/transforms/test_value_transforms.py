"""Every value transform, through a compiled mapping (as flows use them)."""

from __future__ import annotations

from typing import Any

import pytest

from eventsync.transforms import TransformError
from eventsync.transforms.mapping import compile_mapping


def _map(value: Any, *transforms: Any, **extra: Any) -> Any:
    """Map one field whose source holds `value` through `transforms`; MISSING -> absent."""
    mapping = compile_mapping(
        {"fields": {"out": {"path": "$.v", "transforms": list(transforms), **extra}}}, flow="t"
    )
    return mapping.apply_scope({"v": value}).get("out", "<absent>")


@pytest.mark.parametrize(
    ("value", "transform", "expected"),
    [
        ("  Ann  ", "trim", "Ann"),
        ("\tAnn\n", "trim", "Ann"),
        (["  a ", " b"], "trim", ["a", "b"]),
        (42, "trim", 42),
        (None, "trim", None),
        ("Ann.Lee@Example.COM", "lower", "ann.lee@example.com"),
        ("straße", "upper", "STRASSE"),
        ("mixed Case", "upper", "MIXED CASE"),
        (True, "lower", True),
        (["A", None], "lower", ["a", None]),
    ],
)
def test_text_transforms(value: Any, transform: str, expected: Any) -> None:
    assert _map(value, transform) == expected


def test_text_transforms_refuse_objects() -> None:
    with pytest.raises(TransformError, match="trim expects text, got an object"):
        _map({"a": 1}, "trim")


@pytest.mark.parametrize(
    ("value", "settings", "expected"),
    [
        ("2026-05-01T12:00:00Z", {"tz": "America/New_York"}, "2026-05-01T08:00:00-04:00"),
        (
            "2026-01-15T12:00:00+00:00",
            {"tz": "America/New_York", "format": "%Y-%m-%d %H:%M"},
            "2026-01-15 07:00",
        ),
        ("2026-05-01 09:30:00.0", {"tz": "Europe/Paris", "format": "%d/%m/%Y %H:%M"}, "01/05/2026 11:30"),
        ("2026-05-01 09:30:00", {"assume_tz": "Europe/Paris", "format": "iso"}, "2026-05-01T07:30:00+00:00"),
        ("2026-05-01", {"format": "date"}, "2026-05-01"),
        ("2026-05-01T23:30:00-07:00", {"format": "date"}, "2026-05-02"),
        (
            "05/01/2026 14:00",
            {"input_format": "%m/%d/%Y %H:%M", "format": "%Y-%m-%dT%H:%M"},
            "2026-05-01T14:00",
        ),
        (0, {"format": "iso"}, "1970-01-01T00:00:00+00:00"),
        (1777636800000, {"epoch_unit": "ms", "format": "date"}, "2026-05-01"),
        ("", {}, None),
        (["2026-05-01", "2026-05-02"], {"format": "%d.%m."}, ["01.05.", "02.05."]),
    ],
)
def test_date_formatting_with_time_zones(value: Any, settings: dict[str, Any], expected: Any) -> None:
    assert _map(value, {"op": "date", **settings}) == expected


def test_date_errors_name_the_field_and_expression() -> None:
    with pytest.raises(TransformError) as info:
        _map("next tuesday", {"op": "date"})
    err = info.value
    assert (err.flow, err.field, err.expression) == ("t", "out", "$.v")
    assert "cannot read 'next tuesday' as a date" in str(err)
    with pytest.raises(TransformError, match="expects text or a number"):
        _map(True, "date")
    with pytest.raises(TransformError, match="unknown time zone 'Mars/Olympus'"):
        _map("2026-01-01", {"op": "date", "tz": "Mars/Olympus"})


@pytest.mark.parametrize(
    ("value", "settings", "expected"),
    [
        ("NA", {}, "North America"),
        ("XX", {}, "XX"),  # not in the table, no default: passes through
        ("XX", {"default": "Other"}, "Other"),
        ("na", {"ignore_case": True}, "North America"),
        ("na", {}, "na"),
        (1, {}, "one"),
        (1.0, {}, "one"),
        (True, {}, "yes"),
        (["NA", "EU"], {}, ["North America", "Europe"]),
    ],
)
def test_lookup_table(value: Any, settings: dict[str, Any], expected: Any) -> None:
    table = {"NA": "North America", "EU": "Europe", "1": "one", "true": "yes"}
    assert _map(value, {"op": "lookup", "table": table, **settings}) == expected


@pytest.mark.parametrize(
    ("value", "settings", "expected"),
    [
        ("42", {}, 42),
        (" 1.50 ", {}, 1.5),
        ("1e3", {}, 1000.0),
        ("-7", {}, -7),
        (3, {}, 3),
        (2.5, {}, 2.5),
        ("", {}, None),
        ("2.6", {"integer": True}, 3),
        (["1", "2"], {}, [1, 2]),
    ],
)
def test_number_coercion(value: Any, settings: dict[str, Any], expected: Any) -> None:
    result = _map(value, {"op": "number", **settings})
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize("value", ["abc", "1,000", "nan", True, {"a": 1}])
def test_number_coercion_refuses_non_numbers(value: Any) -> None:
    with pytest.raises(TransformError, match="number|finite"):
        _map(value, "number")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Yes", True),
        ("true", True),
        (" Y ", True),
        ("on", True),
        ("1", True),
        ("checked", True),
        ("No", False),
        ("false", False),
        ("0", False),
        ("", False),
        (1, True),
        (0, False),
        (True, True),
        (False, False),
        (["yes", "no"], [True, False]),
    ],
)
def test_boolean_coercion(value: Any, expected: Any) -> None:
    assert (
        _map(value, "boolean") is expected
        if not isinstance(expected, list)
        else _map(value, "boolean") == expected
    )


@pytest.mark.parametrize("value", ["maybe", 2, {"a": 1}])
def test_boolean_coercion_refuses_other_values(value: Any) -> None:
    with pytest.raises(TransformError, match="yes/no|boolean expects"):
        _map(value, "boolean")


def test_transforms_run_in_order_and_skip_missing_values() -> None:
    assert (
        _map("  NA ", "trim", "upper", {"op": "lookup", "table": {"NA": "North America"}}) == "North America"
    )
    m = compile_mapping({"fields": {"out": {"path": "$.nothing", "transforms": ["number"]}}}, flow="t")
    assert m.apply_scope({}) == {}


@pytest.mark.parametrize(
    ("transforms", "words"),
    [
        (["trimm"], "Input should be 'trim'"),
        ([{"op": "lookup"}], "table"),
        ([{"op": "trim", "x": 1}], "Extra inputs"),
        ([{"op": "number", "integer": "maybe"}], "integer"),
        ([{"op": "date", "epoch_unit": "us"}], "epoch_unit"),
    ],
)
def test_invalid_transforms_are_rejected_at_compile_time(transforms: list[Any], words: str) -> None:
    with pytest.raises(TransformError) as info:
        compile_mapping({"fields": {"out": {"path": "$.v", "transforms": transforms}}}, flow="flowX")
    assert "flow 'flowX'" in str(info.value) and "fields.out.transforms.0" in str(info.value)
    assert words in str(info.value)
