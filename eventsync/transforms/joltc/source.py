"""Building and running generated Python: one function per Jolt operation, compiled once.

Each operation generator walks jolt-py's own parsed spec tree (so parsing, validation and
precedence are exactly jolt-py's) and emits straight-line Python for it: literal keys become
dict lookups, references to matched keys become local variables, output paths become nested
`get`/`set` on the output. `Unsupported` means "this spec uses something the generator does
not specialise"; the chain then runs that one operation through jolt-py and says so.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from pyjolt import MISSING

__all__ = ["Source", "Unsupported", "deep_copy", "own_copy", "MISSING", "SCALARS"]


MAX_LINES = 20_000


class Unsupported(Exception):
    """The generator does not specialise this part of a spec (the reason is the message)."""


class Source:
    """Python source under construction: lines with indentation, constants and fresh names."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.consts: dict[str, Any] = {}
        self._names = 0
        self.known_dicts: set[str] = set()
        """Variables that hold a dict where code is being emitted (no isinstance needed)."""

    def line(self, text: str) -> None:
        if len(self.lines) >= MAX_LINES:
            # A spec whose generated code would be this large (deeply nested wildcards are
            # generated once per kind of parent) is left to jolt-py rather than blow up memory.
            raise Unsupported(f"the generated code would exceed {MAX_LINES:,} lines")
        self.lines.append("    " * self.depth + text)

    def indent(self) -> None:
        self.depth += 1

    def dedent(self) -> None:
        self.depth -= 1

    def name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"

    def const(self, value: Any, prefix: str = "C") -> str:
        """A name for `value` in the generated module (for non-literal constants)."""
        for name, existing in self.consts.items():
            if existing is value:
                return name
        name = self.name(f"_{prefix}")
        self.consts[name] = value
        return name

    def build(self, fn_name: str, namespace: dict[str, Any]) -> Callable[..., Any]:
        text = "\n".join(self.lines) + "\n"
        env: dict[str, Any] = {"__builtins__": builtins, **namespace, **self.consts}
        code = builtins.compile(text, f"<jolt {fn_name}>", "exec")
        exec(code, env)  # noqa: S102 - our own generated source, from a validated spec
        fn: Callable[..., Any] = env[fn_name]
        fn.__jolt_source__ = text  # type: ignore[attr-defined]
        return fn


SCALARS = _SCALARS = frozenset({str, int, float, bool, type(None)})
"""Types that are shared, never copied (immutable JSON scalars)."""


def deep_copy(value: Any) -> Any:
    """A copy of a JSON tree; scalars are shared (immutable), so only containers cost a call."""
    if isinstance(value, dict):
        return {k: v if v.__class__ in _SCALARS else deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if v.__class__ in _SCALARS else deep_copy(v) for v in value]
    return value


def own_copy(value: Any, memo: dict[int, Any]) -> Any:
    """A copy of an input container, the same copy each time the same object is seen.

    jolt-py copies the whole input once and then shares subtrees; a shift that only copies
    what it writes keeps that sharing (one input list written twice is one output list).
    """
    found = memo.get(id(value))
    if found is not None:
        return found
    if isinstance(value, dict):
        copy: Any = {}
        memo[id(value)] = copy
        for k, v in value.items():
            copy[k] = v if v.__class__ in _SCALARS else own_copy(v, memo)
        return copy
    if isinstance(value, list):
        copy = []
        memo[id(value)] = copy
        copy.extend(v if v.__class__ in _SCALARS else own_copy(v, memo) for v in value)
        return copy
    return value
