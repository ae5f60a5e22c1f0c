"""Jolt behind our own surface: `compile(spec)` once, `chain.apply(data)` many times.

jolt-py (import `pyjolt`) does the transforming. This module adds what eventsync needs around
it: Java Jolt's chain rules (an empty chain, an entry without a spec other than sort and an
unknown operation are errors), errors that name the chain index and the path inside the
entry, and a single exception type (`TransformError`) for everything that can go wrong.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pyjolt import (
    Cardinality,
    Chainr,
    Default,
    ModifyDefault,
    ModifyDefine,
    ModifyOverwrite,
    Remove,
    Shift,
    Sort,
    Transform,
)

from eventsync.transforms.errors import TransformError

__all__ = ["JoltChain", "compile", "OPERATIONS"]

_MODIFIERS: dict[str, type[Transform]] = {
    "modify-overwrite-beta": ModifyOverwrite,
    "modify-default-beta": ModifyDefault,
    "modify-define-beta": ModifyDefine,
}

# Java Jolt's stock names, plus the Java class names of the stock transforms so that specs
# copied from a Java deployment work unchanged. jolt-py also accepts "modify-overwrite" and
# friends without "-beta"; Java Jolt does not, so neither do we.
OPERATIONS: dict[str, type[Transform]] = {
    "shift": Shift,
    "default": Default,
    "remove": Remove,
    "sort": Sort,
    "cardinality": Cardinality,
    **_MODIFIERS,
    "com.bazaarvoice.jolt.Shiftr": Shift,
    "com.bazaarvoice.jolt.Defaultr": Default,
    "com.bazaarvoice.jolt.Removr": Remove,
    "com.bazaarvoice.jolt.Sortr": Sort,
    "com.bazaarvoice.jolt.CardinalityTransform": Cardinality,
    "com.bazaarvoice.jolt.Modifier$Overwritr": ModifyOverwrite,
    "com.bazaarvoice.jolt.Modifier$Defaultr": ModifyDefault,
    "com.bazaarvoice.jolt.Modifier$Definr": ModifyDefine,
}

_SPECLESS = {"sort", "com.bazaarvoice.jolt.Sortr"}

Functions = Mapping[str, Callable[..., Any]]


def _pointer(path: Sequence[str | int]) -> str:
    """RFC 6901 JSON Pointer: Jolt keys are full of '.', '*', '&' and '@', so dotted paths would be ambiguous."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class JoltChain:
    """A compiled chain. Immutable and safe to share; `apply` never touches its input."""

    __slots__ = ("_chainr", "_steps", "_operations", "warnings")

    def __init__(self, steps: list[Transform], operations: list[str], notes: list[str]) -> None:
        self._steps = tuple(steps)
        self._operations = tuple(operations)
        self._chainr = Chainr(list(steps))
        self.warnings: tuple[str, ...] = tuple(notes)
        """What compiled but will quietly do nothing (an unknown modify function, as in Java)."""

    @property
    def operations(self) -> tuple[str, ...]:
        return self._operations

    def __len__(self) -> int:
        return len(self._steps)

    def __repr__(self) -> str:
        return f"JoltChain({list(self._operations)!r})"

    def apply(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Run the chain on a copy of `data`; `context` is what modify specs read with `^path`."""
        ctx = dict(context) if context is not None and not isinstance(context, dict) else context
        try:
            return self._chainr.apply(data, ctx)
        except Exception as exc:
            # Only on failure: re-run step by step to say which entry failed.
            raise self._failure(data, ctx, exc) from exc

    def _failure(self, data: Any, context: dict[str, Any] | None, exc: Exception) -> TransformError:
        current = data
        for index, step in enumerate(self._steps):
            try:
                current = Chainr([step]).apply(current, context)
            except Exception as step_exc:
                return TransformError(
                    f"Jolt chain[{index}] ({self._operations[index]}) failed on this input: "
                    f"{type(step_exc).__name__}: {step_exc}",
                    index=index,
                    path="",
                )
        return TransformError(f"Jolt chain failed on this input: {type(exc).__name__}: {exc}")


def _build(op: str, spec: Any, functions: Functions | None) -> Transform:
    cls = OPERATIONS[op]
    if functions and cls in _MODIFIERS.values():
        return cls(spec, functions=dict(functions))  # type: ignore[call-arg]
    return cls(spec)  # type: ignore[call-arg]


def _fails(op: str, spec: Any, functions: Functions | None) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _build(op, spec, functions)
    except Exception:
        return True
    return False


def _fault_path(op: str, spec: Any, functions: Functions | None) -> list[str]:
    """The deepest key path whose branch alone still fails to compile.

    jolt-py's messages do not say where in the spec the problem is, so we narrow it down:
    keep only one branch at a time and descend into the first that still fails. When every
    branch compiles alone (siblings that conflict with each other), the fault is their parent.
    """
    path: list[str] = []
    node = spec

    def rebuild(sub: Any) -> Any:
        for key in reversed(path):
            sub = {key: sub}
        return sub

    while isinstance(node, dict) and len(path) < 64:
        for key, child in node.items():
            if _fails(op, rebuild({key: child}), functions):
                path.append(key)
                node = child
                break
        else:
            break
    return path


def _entry_error(index: int, path: Sequence[str | int], message: str) -> TransformError:
    pointer = _pointer(path)
    return TransformError(f"Jolt chain[{index}] at {pointer or '/'}: {message}", index=index, path=pointer)


def _compile_entry(index: int, entry: Any, functions: Functions | None, notes: list[str]) -> Transform:
    if not isinstance(entry, dict):
        raise _entry_error(
            index, [], f"a chain entry is an object with 'operation' and 'spec', got {type(entry).__name__}"
        )
    if "operation" not in entry:
        raise _entry_error(index, ["operation"], "missing 'operation'")
    op = entry["operation"]
    if not isinstance(op, str) or op not in OPERATIONS:
        raise _entry_error(
            index,
            ["operation"],
            f"unknown operation {op!r}; known: {', '.join(sorted(n for n in OPERATIONS if '.' not in n))}",
        )
    spec = entry.get("spec")
    if spec is None:
        if op not in _SPECLESS:
            raise _entry_error(index, ["spec"], f"operation {op!r} needs a 'spec'")
        spec = {}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            step = _build(op, spec, functions)
    except Exception as exc:
        where = ["spec", *_fault_path(op, spec, functions)]
        raise _entry_error(index, where, f"invalid {op} spec: {exc}") from exc
    notes.extend(f"chain[{index}] ({op}): {w.message}" for w in caught)
    return step


def compile(spec: Any, *, functions: Functions | None = None) -> JoltChain:  # noqa: A001
    """Compile a Jolt chain (a list of entries) or a single entry object.

    `functions` adds custom modify functions (name -> callable) to the modify operations,
    as Java Jolt's `Modifier` accepts a function map.
    """
    if isinstance(spec, dict):
        entries: list[Any] = [spec]
    elif isinstance(spec, list):
        entries = spec
    else:
        raise TransformError(
            f"a Jolt spec is a chain (a list) or one operation (an object), got {type(spec).__name__}",
            path="",
        )
    if not entries:
        raise TransformError("a Jolt chain needs at least one operation; this one is empty", path="")
    if functions is not None:
        for name, fn in functions.items():
            if not isinstance(name, str) or not callable(fn):
                raise TransformError(f"custom Jolt function {name!r} must be a name mapped to a callable")
    notes: list[str] = []
    steps = [_compile_entry(i, entry, functions, notes) for i, entry in enumerate(entries)]
    return JoltChain(steps, [e["operation"] for e in entries], notes)
