"""JSONPath, compiled once per expression (jsonpath-ng's extended grammar)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse


@lru_cache(maxsize=256)
def compile_path(expr: str) -> JSONPath:
    try:
        return parse(expr)
    except (JsonPathParserError, Exception) as e:  # the parser raises several types
        raise ValueError(f"invalid JSONPath {expr!r}: {e}") from None


def find_all(expr: str, data: Any) -> list[Any]:
    return [m.value for m in compile_path(expr).find(data)]


def find_one(expr: str, data: Any) -> Any:
    """The first match, or None when nothing matches."""
    found = compile_path(expr).find(data)
    return found[0].value if found else None
