"""Checkpoint values: parse a record's cursor field, compare, step back for the boundary, and write
the value into a request.

Values are kept in workflow state in a canonical, JSON-friendly form: datetimes as ISO-8601 UTC
strings, numbers as numbers, strings as strings.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eventsync.definitions.fetches import Checkpoint

Value = str | int | float


class CheckpointError(ValueError):
    pass


def _parse_datetime(raw: Any, where: str) -> datetime:
    if isinstance(raw, bool):
        raise CheckpointError(f"{where}: {raw!r} is not a date-time")
    if isinstance(raw, int | float):
        # Epoch seconds, or milliseconds when it could not be seconds (after year 5138).
        seconds = raw / 1000 if abs(raw) > 1e11 else raw
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(raw, str):
        text = raw.strip()
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return _parse_datetime(float(text), where)
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise CheckpointError(f"{where}: {raw!r} is neither ISO-8601 nor epoch seconds") from None
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    raise CheckpointError(f"{where}: {raw!r} is not a date-time")


def canonical(spec: Checkpoint, raw: Any, where: str = "checkpoint") -> Value:
    """A record's (or the user's) value in canonical form."""
    if raw is None:
        raise CheckpointError(f"{where}: no value")
    if spec.type == "datetime":
        return _parse_datetime(raw, where).isoformat()
    if spec.type == "number":
        if isinstance(raw, bool):
            raise CheckpointError(f"{where}: {raw!r} is not a number")
        if isinstance(raw, int | float):
            return raw
        try:
            return float(raw) if any(c in str(raw) for c in ".eE") else int(raw)
        except (TypeError, ValueError):
            raise CheckpointError(f"{where}: {raw!r} is not a number") from None
    return str(raw)


def sort_key(spec: Checkpoint, value: Value) -> Any:
    if spec.type == "datetime":
        if isinstance(value, str):
            try:  # canonical values are ISO-8601 with an offset: the C parser takes them as is
                dt = datetime.fromisoformat(value)
                if dt.tzinfo is not None:
                    return dt
            except ValueError:
                pass
        return _parse_datetime(value, "checkpoint")
    return value


def later(spec: Checkpoint, a: Value | None, b: Value | None) -> Value | None:
    if a is None:
        return b
    if b is None:
        return a
    return a if sort_key(spec, a) >= sort_key(spec, b) else b


def lower_bound(spec: Checkpoint, value: Value) -> Value:
    """The value to send so that the source returns every record whose field is >= `value` minus the
    lookback: records sharing the boundary value are read again, never skipped."""
    back = spec.lookback + (spec.step if spec.operator == ">" else 0.0)
    if back == 0 or spec.type == "string":
        return value
    if spec.type == "datetime":
        return (_parse_datetime(value, "checkpoint") - timedelta(seconds=back)).isoformat()
    assert isinstance(value, int | float)
    result = value - back
    return int(result) if isinstance(value, int) and float(back).is_integer() else result


def render(spec: Checkpoint, value: Value) -> str | int | float:
    """The value as the source expects it in a request."""
    if spec.type != "datetime":
        return value
    dt = _parse_datetime(value, "checkpoint")
    if spec.format == "iso":
        return dt.isoformat().replace("+00:00", "Z")
    if spec.format == "epoch":
        return int(dt.timestamp())
    if spec.format == "epoch_ms":
        return int(dt.timestamp() * 1000)
    return dt.strftime(spec.format)
