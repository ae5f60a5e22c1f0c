"""Fast paths for the hot stock modify functions, exactly equal to jolt-py's.

jolt-py's functions go through generic wrappers (argument shape dispatch, list handling) and
some rebuild constants per call (`trim` builds its character set each time). Each fast path
here handles only the common shape (one text argument, several arguments for `concat`) and
hands anything else to the jolt-py function itself, so results cannot differ; the
differential property test holds them to that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyjolt import MISSING
from pyjolt._common.functions import STOCK_FUNCTIONS, java_to_string

Fn = Callable[..., Any]

_TRIM = TRIM = "".join(chr(c) for c in range(33))  # Java String.trim: every char <= ' '
_I32 = 2**31


def _fast(name: str) -> Callable[[Fn], Fn]:
    slow = STOCK_FUNCTIONS[name]

    def register(fast: Fn) -> Fn:
        FAST[slow] = fast
        return fast

    return register


FAST: dict[Fn, Fn] = {}


def fast_version(fn: Fn) -> Fn:
    """The fast equivalent of a stock jolt-py function, or the function itself."""
    return FAST.get(fn, fn)


@_fast("trim")
def _trim(*args: Any) -> Any:
    if len(args) == 1 and type(args[0]) is str:
        return args[0].strip(_TRIM)
    return STOCK_FUNCTIONS["trim"](*args)


@_fast("toLower")
def _lower(*args: Any) -> Any:
    if len(args) == 1 and type(args[0]) is str:
        return args[0].lower()
    return STOCK_FUNCTIONS["toLower"](*args)


@_fast("toUpper")
def _upper(*args: Any) -> Any:
    if len(args) == 1 and type(args[0]) is str:
        return args[0].upper()
    return STOCK_FUNCTIONS["toUpper"](*args)


@_fast("toString")
def _to_string(*args: Any) -> Any:
    if len(args) == 1 and type(args[0]) is str:
        return args[0]
    return STOCK_FUNCTIONS["toString"](*args)


@_fast("toBoolean")
def _to_boolean(*args: Any) -> Any:
    if len(args) == 1:
        a = args[0]
        if type(a) is bool:
            return a
        if type(a) is str:
            low = a.lower()
            return True if low == "true" else False if low == "false" else MISSING
    return STOCK_FUNCTIONS["toBoolean"](*args)


@_fast("toInteger")
def _to_integer(*args: Any) -> Any:
    if len(args) == 1:
        a = args[0]
        if type(a) is int and -_I32 <= a < _I32:
            return a
        if type(a) is str and a.isascii() and a.isdigit() and int(a) < _I32:
            return int(a)
    return STOCK_FUNCTIONS["toInteger"](*args)


@_fast("concat")
def _concat(*args: Any) -> Any:
    if len(args) < 2:
        return STOCK_FUNCTIONS["concat"](*args)
    return "".join(a if type(a) is str else java_to_string(a) for a in args if a is not None)


INLINE_TEXT: dict[Fn, str] = {
    # What the stock function does to one text argument, as an expression on `{}`
    # (the generated code guards it with `type is str`; `_TRIM` is in its namespace).
    STOCK_FUNCTIONS["trim"]: "{}.strip(_TRIM)",
    STOCK_FUNCTIONS["toLower"]: "{}.lower()",
    STOCK_FUNCTIONS["toUpper"]: "{}.upper()",
    STOCK_FUNCTIONS["toString"]: "{}",
}
