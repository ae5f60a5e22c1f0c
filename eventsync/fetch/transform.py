"""The Jolt chain of a fetch, compiled once per page group and applied to each record."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from json import dumps
from typing import Any

from eventsync.fetch.errors import FetchError
from eventsync.transforms import jolt

Apply = Callable[[Any], Any]


def _compile(spec: list[dict[str, Any]]) -> Apply:
    return jolt.compile(spec).apply


@lru_cache(maxsize=32)
def _cached(spec_json: str) -> Apply:
    import json

    return _compile(json.loads(spec_json))


def compile_chain(spec: list[dict[str, Any]]) -> Apply | None:
    """None when there is nothing to do. A bad spec is a permanent error naming the problem."""
    if not spec:
        return None
    try:
        return _cached(dumps(spec))  # no sort_keys: key order matters to Jolt
    except Exception as e:
        raise FetchError(f"transform: invalid Jolt spec: {e}") from None


def outputs(result: Any) -> list[dict[str, Any]]:
    """A record may become none, one or several target records."""
    if result is None:
        return []
    if isinstance(result, list):
        return [r for r in result if isinstance(r, dict)]
    if isinstance(result, dict):
        return [result]
    raise FetchError(f"transform: the Jolt chain produced a {type(result).__name__}, not an object")
