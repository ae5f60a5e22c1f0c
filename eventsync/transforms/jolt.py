"""Jolt behind our own surface: `compile(spec)` once, `chain.apply(data)` many times.

jolt-py (import `pyjolt`) parses and validates specs; `eventsync.transforms.joltc` then turns
each chain entry into generated Python (compiled once, cached by the spec's hash), so records
are not interpreted against the spec one by one. An entry the compiler does not specialise
runs through jolt-py and `chain.steps` says so. This module adds what eventsync needs around
it: Java Jolt's chain rules (an empty chain, an entry without a spec other than sort and an
unknown operation are errors), errors that name the chain index and the path inside the
entry, a single exception type (`TransformError`) for everything that can go wrong, and
`explain` (which spec path produced each output field).
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from eventsync.transforms.joltc import chain as _codegen
from eventsync.transforms.joltc import explain as _explain

if TYPE_CHECKING:
    from eventsync.transforms.joltc.explain import Explanation

__all__ = ["JoltChain", "Step", "compile", "error_location", "OPERATIONS"]

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


@dataclass(frozen=True)
class Step:
    """One chain entry as it runs: generated Python, or jolt-py when the compiler declined."""

    index: int
    operation: str
    compiled: bool
    reason: str | None
    """Why the entry runs through jolt-py (None when compiled)."""

    def describe(self) -> str:
        how = "compiled" if self.compiled else f"jolt-py (not compiled: {self.reason})"
        return f"chain[{self.index}] {self.operation}: {how}"


class JoltChain:
    """A compiled chain. Immutable and safe to share; `apply` never touches its input."""

    __slots__ = (
        "_transforms",
        "_operations",
        "_fns",
        "_copy_input",
        "_entries",
        "steps",
        "warnings",
        "__weakref__",
    )

    def __init__(
        self,
        transforms: list[Transform],
        operations: list[str],
        notes: list[str],
        entries: list[dict[str, Any]] | None = None,
    ) -> None:
        self._transforms = tuple(transforms)
        self._operations = tuple(operations)
        self._entries = tuple(entries or ({"operation": op} for op in operations))
        fns, steps, copy_input = _codegen.build(self._transforms, self._entries)
        self._fns = tuple(fns)
        self._copy_input = copy_input
        self.steps: tuple[Step, ...] = tuple(
            Step(i, op, reason is None, reason)
            for i, (op, reason) in enumerate(zip(operations, steps, strict=True))
        )
        """How each entry runs; an entry the compiler does not specialise runs through jolt-py."""
        self.warnings: tuple[str, ...] = tuple(notes)
        """What compiled but will quietly do nothing (an unknown modify function, as in Java)."""

    @property
    def operations(self) -> tuple[str, ...]:
        return self._operations

    def __len__(self) -> int:
        return len(self._transforms)

    def __repr__(self) -> str:
        return f"JoltChain({list(self._operations)!r})"

    def apply(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """Run the chain on `data` (never changed); `context` is what modify specs read with `^path`."""
        ctx = dict(context) if context is not None and not isinstance(context, dict) else context
        index = 0
        try:
            if self._copy_input:
                data = _codegen.deep_copy(data)
            for fn in self._fns:
                data = fn(data, ctx)
                index += 1
        except Exception as exc:
            raise TransformError(
                f"Jolt chain[{index}] ({self._operations[index]}) failed on this input: "
                f"{type(exc).__name__}: {exc}",
                index=index,
                path="",
            ) from exc
        return data

    def apply_interpreted(self, data: Any, context: Mapping[str, Any] | None = None) -> Any:
        """The same chain through jolt-py alone (the oracle the compiled path is tested against)."""
        ctx = dict(context) if context is not None and not isinstance(context, dict) else context
        return Chainr(list(self._transforms)).apply(data, ctx)

    def explain(self, data: Any, context: Mapping[str, Any] | None = None) -> Explanation:
        """Apply, and say which spec path produced each output field and what input matched nothing."""
        ctx = dict(context) if context is not None and not isinstance(context, dict) else context
        return _explain.explain(self, data, ctx)


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


_CACHE: OrderedDict[tuple[str, tuple[tuple[str, int], ...]], JoltChain] = OrderedDict()
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def _cache_key(spec: Any, functions: Functions | None) -> tuple[str, tuple[tuple[str, int], ...]] | None:
    try:
        text = json.dumps(spec, ensure_ascii=False, allow_nan=True)  # no sort_keys: key order matters to Jolt
    except (TypeError, ValueError):
        return None
    fns = tuple(sorted((str(n), id(f)) for n, f in functions.items())) if functions else ()
    return hashlib.sha256(text.encode()).hexdigest(), fns


def compile(spec: Any, *, functions: Functions | None = None) -> JoltChain:  # noqa: A001
    """Compile a Jolt chain (a list of entries) or a single entry object into Python.

    The same spec (by the SHA-256 of its JSON, and the same custom functions) gives the same
    compiled chain, so compiling per page or per definition load costs a hash.
    `functions` adds custom modify functions (name -> callable) to the modify operations,
    as Java Jolt's `Modifier` accepts a function map.
    """
    key = _cache_key(spec, functions)
    if key is not None:
        with _CACHE_LOCK:
            hit = _CACHE.get(key)
            if hit is not None:
                _CACHE.move_to_end(key)
                return hit
    chain = _compile(spec, functions)
    if key is not None:
        with _CACHE_LOCK:
            _CACHE[key] = chain
            # a chain holds its custom functions, so their ids in the key stay unique
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
    return chain


def _compile(spec: Any, functions: Functions | None) -> JoltChain:
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
    return JoltChain(steps, [e["operation"] for e in entries], notes, entries)


def error_location(spec: Any, err: TransformError) -> tuple[str | int, ...]:
    """Where a compile error points inside `spec`, as keys and list indexes (chain index first).

    For finding the line in the file the spec came from; a list index is an int, an object key
    a str (Jolt keys such as "0" stay text).
    """
    if err.index is None:
        return ()
    node: Any = spec if isinstance(spec, list) else [spec]
    loc: list[str | int] = []
    parts: list[str] = [] if not err.path else err.path.split("/")[1:]
    for raw in [str(err.index), *parts]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            loc.append(int(part))
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            loc.append(part)
            node = node[part]
        else:
            break
    if not isinstance(spec, list):
        loc = loc[1:]
    return tuple(loc)
