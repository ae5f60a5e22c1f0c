"""Value transforms for mapped fields: trim, lower/upper, date, lookup, number, boolean.

Each is a definition model (it sits in the flow YAML) that compiles once into a plain
function of one value. A transform that cannot handle a value raises `ValueProblem`; the
mapping turns it into a `TransformError` naming the flow, the field and the expression.

Common rules: `None` passes through untouched (a default, if any, applies after the
transforms); a list (a multi-choice answer, a path matching several nodes) is transformed
element by element.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, Discriminator, Field, JsonValue, Tag, field_validator

from eventsync.strict import Strict

__all__ = [
    "Boolean",
    "DateFormat",
    "Lookup",
    "Lower",
    "Number",
    "Trim",
    "Upper",
    "ValueProblem",
    "ValueTransform",
    "compile_transform",
]

ValueFn = Callable[[Any], Any]


class ValueProblem(ValueError):
    """A value a transform cannot handle (becomes a TransformError with flow, field, expression)."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _each(fn: ValueFn) -> ValueFn:
    def apply(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [None if v is None else fn(v) for v in value]
        return fn(value)

    return apply


# --------------------------------------------------------------------------- models


class Trim(Strict):
    """Strip leading and trailing whitespace from text."""

    op: Literal["trim"] = "trim"


class Lower(Strict):
    op: Literal["lower"] = "lower"


class Upper(Strict):
    op: Literal["upper"] = "upper"


class DateFormat(Strict):
    """Read a date or timestamp and write it in `format`, in time zone `tz`.

    Input: ISO 8601 text ("2026-05-01", "2026-05-01T09:30:00Z", "2026-05-01 09:30:00.0"),
    text in `input_format` (strptime), or epoch seconds / milliseconds (`epoch_unit`).
    A time without an offset is taken to be in `assume_tz`. `format` is a strftime pattern,
    or "iso" (ISO 8601 with offset) or "date" (YYYY-MM-DD).
    """

    op: Literal["date"] = "date"
    format: str = "iso"
    tz: str = "UTC"
    assume_tz: str = "UTC"
    input_format: str | None = None
    epoch_unit: Literal["s", "ms"] = "s"

    @field_validator("tz", "assume_tz")
    @classmethod
    def _zone(cls, value: str) -> str:
        _zone(value)
        return value


class Lookup(Strict):
    """Replace a value by its entry in `table` (keys compared as text).

    A value not in the table becomes `default` when one is given, else passes through.
    """

    op: Literal["lookup"] = "lookup"
    table: dict[str, JsonValue]
    default: JsonValue = None
    ignore_case: bool = False


class Number(Strict):
    """Coerce text to a number ("42" -> 42, "1.5" -> 1.5); `integer` rounds to a whole number.

    Empty text becomes None (so a default can apply); text that is not a number is an error.
    """

    op: Literal["number"] = "number"
    integer: bool = False


class Boolean(Strict):
    """Coerce to true/false: true/yes/y/on/1/checked and false/no/n/off/0/"" (any case), 1 and 0."""

    op: Literal["boolean"] = "boolean"


_SHORTHAND = {"trim", "lower", "upper", "number", "boolean", "date"}
_OPS = _SHORTHAND | {"lookup"}


def _transform_kind(value: Any) -> str:
    if isinstance(value, str):
        return value if value in _SHORTHAND else "invalid"
    if isinstance(value, dict):
        op = value.get("op")
        return op if op in _OPS else "invalid"
    return str(getattr(value, "op", "invalid"))


def _from_shorthand(value: Any) -> Any:
    # "trim" is short for {op: trim}; only transforms without required settings have one.
    return {"op": value} if isinstance(value, str) else value


class _Invalid(Strict):
    op: Literal["trim", "lower", "upper", "date", "lookup", "number", "boolean"]


ValueTransform = Annotated[
    Annotated[Trim, Tag("trim")]
    | Annotated[Lower, Tag("lower")]
    | Annotated[Upper, Tag("upper")]
    | Annotated[DateFormat, Tag("date")]
    | Annotated[Lookup, Tag("lookup")]
    | Annotated[Number, Tag("number")]
    | Annotated[Boolean, Tag("boolean")]
    | Annotated[_Invalid, Tag("invalid")],
    Discriminator(_transform_kind),
    BeforeValidator(_from_shorthand),
    Field(description="a transform: trim, lower, upper, date, lookup, number or boolean"),
]


# --------------------------------------------------------------------------- compiled forms


def _zone(name: str) -> tzinfo:
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'America/New_York')") from exc


def _text(name: str, op: Callable[[str], str]) -> ValueFn:
    def one(v: Any) -> Any:
        if isinstance(v, str):
            return op(v)
        if isinstance(v, dict):
            raise ValueProblem(f"{name} expects text, got an object")
        return v  # numbers and booleans have no case or padding

    each = _each(one)

    def apply(v: Any) -> Any:
        # Text is the common case by far: skip the list/None dispatch for it.
        return op(v) if v.__class__ is str else each(v)

    return apply


def _date(t: DateFormat) -> ValueFn:
    out_zone, in_zone = _zone(t.tz), _zone(t.assume_tz)
    scale = 1000.0 if t.epoch_unit == "ms" else 1.0

    def parse(v: Any) -> datetime:
        if isinstance(v, bool) or isinstance(v, dict | list):
            raise ValueProblem(f"date expects text or a number, got {_kind(v)}")
        if isinstance(v, int | float):
            try:
                return datetime.fromtimestamp(v / scale, UTC)
            except (OverflowError, OSError, ValueError) as exc:
                raise ValueProblem(f"{v!r} is not a usable epoch timestamp") from exc
        text = str(v).strip()
        try:
            if t.input_format is not None:
                parsed = datetime.strptime(text, t.input_format)
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            expected = t.input_format or "ISO 8601"
            raise ValueProblem(f"cannot read {text[:60]!r} as a date ({expected})") from exc
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=in_zone)

    def apply(v: Any) -> Any:
        if isinstance(v, str) and not v.strip():
            return None
        moment = parse(v)
        try:
            local = moment.astimezone(out_zone)
        except (OverflowError, ValueError) as exc:
            raise ValueProblem(f"{v!r} is out of range for time zone {t.tz}") from exc
        if t.format == "iso":
            return local.isoformat()
        if t.format == "date":
            return local.date().isoformat()
        try:
            return local.strftime(t.format)
        except ValueError as exc:
            raise ValueProblem(f"date format {t.format!r} failed: {exc}") from exc

    return _each(apply)


def _key(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _lookup(t: Lookup) -> ValueFn:
    fold = str.casefold if t.ignore_case else (lambda s: s)
    table = {fold(k): v for k, v in t.table.items()}
    has_default = "default" in t.model_fields_set

    def apply(v: Any) -> Any:
        if isinstance(v, dict):
            raise ValueProblem("lookup expects text or a number, got an object")
        key = fold(_key(v))
        if key in table:
            return table[key]
        return t.default if has_default else v

    return _each(apply)


def _number(t: Number) -> ValueFn:
    def apply(v: Any) -> Any:
        if isinstance(v, bool) or isinstance(v, dict | list):
            raise ValueProblem(f"number expects text or a number, got {_kind(v)}")
        if isinstance(v, str):
            text = v.strip()
            if not text:
                return None
            try:
                n: int | float = int(text)
            except ValueError:
                try:
                    n = float(text)
                except ValueError:
                    raise ValueProblem(f"{text[:60]!r} is not a number") from None
        elif isinstance(v, int | float):
            n = v
        else:
            raise ValueProblem(f"number expects text or a number, got {_kind(v)}")
        if isinstance(n, float) and not math.isfinite(n):
            raise ValueProblem(f"{v!r} is not a finite number")
        if t.integer and isinstance(n, float):
            return round(n)
        return n

    return _each(apply)


_TRUE = {"true", "yes", "y", "on", "1", "checked", "t"}
_FALSE = {"false", "no", "n", "off", "0", "", "unchecked", "f"}


def _boolean(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float) and v in (0, 1):
        return bool(v)
    if isinstance(v, str):
        word = v.strip().casefold()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueProblem(f"{v[:60]!r} is not a yes/no value")
    raise ValueProblem(f"boolean expects text, 0/1 or a boolean, got {v!r}"[:120])


def compile_transform(t: Any) -> ValueFn:
    """One transform model -> a function of one value."""
    if isinstance(t, Trim):
        return _text("trim", str.strip)
    if isinstance(t, Lower):
        return _text("lower", str.lower)
    if isinstance(t, Upper):
        return _text("upper", str.upper)
    if isinstance(t, DateFormat):
        return _date(t)
    if isinstance(t, Lookup):
        return _lookup(t)
    if isinstance(t, Number):
        return _number(t)
    if isinstance(t, Boolean):
        return _each(_boolean)
    raise TypeError(f"not a value transform: {t!r}")
