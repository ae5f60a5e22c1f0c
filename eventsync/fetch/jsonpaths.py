"""JSONPath, compiled once per expression (jsonpath-ng's extended grammar)."""

from __future__ import annotations

import re
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


_DOTTED = re.compile(r"\$((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


@lru_cache(maxsize=256)
def _dotted(expr: str) -> tuple[str, ...] | None:
    """`$.a.b` as ("a", "b"): a plain field path, read without the JSONPath engine."""
    m = _DOTTED.fullmatch(expr.strip())
    return tuple(m.group(1)[1:].split(".")) if m else None


def find_one(expr: str, data: Any) -> Any:
    """The first match, or None when nothing matches. A plain `$.a.b` (the usual checkpoint
    field, read for every record) is a dictionary walk, with the same answer."""
    keys = _dotted(expr)
    if keys is not None:
        node = data
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node
    found = compile_path(expr).find(data)
    return found[0].value if found else None
