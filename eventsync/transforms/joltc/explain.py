"""Why a chain produced what it did: the spec path behind each output field, and unused input.

A compiled shift is re-generated with tracing (each write records its output keys, the input
keys the value came from and the spec pointer of the leaf); entries that change data in place
(default, modify, remove, cardinality, sort) are explained by comparing their input and output
and pointing into their spec along the changed path. Lineage follows a value back through the
chain to the input field it came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyjolt import Shift

from eventsync.transforms.joltc import chain as codegen
from eventsync.transforms.joltc.source import Unsupported, deep_copy

if TYPE_CHECKING:
    from eventsync.transforms.jolt import JoltChain

Path = tuple[str | int, ...]


def pointer(path: Sequence[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path) or "/"


@dataclass(frozen=True)
class FieldOrigin:
    """One output field (a leaf) and how it came to be, the most recent step first."""

    path: str
    value: Any
    produced_by: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    output: Any
    steps: tuple[str, ...]
    """How each chain entry ran (compiled, or jolt-py and why)."""
    fields: tuple[FieldOrigin, ...]
    unmatched: tuple[str, ...]
    """Input fields (JSON pointers) that no key of the first shift matched, so nothing came of them."""

    def lines(self) -> list[str]:
        out = ["steps:", *(f"  {s}" for s in self.steps), "output fields:"]
        for f in self.fields:
            out.append(f"  {f.path} = {json.dumps(f.value)}")
            out.extend(f"      <- {p}" for p in f.produced_by)
        if self.unmatched:
            out.append("input fields that matched nothing:")
            out.extend(f"  {p}" for p in self.unmatched)
        return out


def leaves(data: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Scalars and empty containers, with their paths."""
    if isinstance(data, dict) and data:
        for k, v in data.items():
            yield from leaves(v, (*prefix, k))
    elif isinstance(data, list) and data:
        for i, v in enumerate(data):
            yield from leaves(v, (*prefix, i))
    else:
        yield prefix, data


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and json.dumps(a) == json.dumps(b)


def _lookup(lineage: dict[Path, list[str]], path: Path) -> list[str] | None:
    """The lineage of `path`, or of its closest ancestor that has one."""
    for n in range(len(path), -1, -1):
        found = lineage.get(path[:n])
        if found is not None:
            return found
    return None


def _prefix(pattern: tuple[str, ...], path: Path) -> bool:
    if len(pattern) > len(path):
        return False
    return all(p == "[]" or p == str(k) for p, k in zip(pattern, path, strict=False))


_MODIFY_MARKS = re.compile(r"^[+~_]|\?$")


def _matches(spec_key: str, key: str) -> bool:
    for alt in str(spec_key).split("|"):
        alt = _MODIFY_MARKS.sub("", alt)
        alt = alt[:-2] if alt.endswith("[]") else alt
        if alt.startswith("[") and alt.endswith("]"):
            alt = alt[1:-1]
        if alt == key:
            return True
        if "*" in alt and re.fullmatch(".+".join(re.escape(p) for p in alt.split("*")), key):
            return True
    return False


def spec_pointer(spec: Any, path: Path) -> str:
    """The deepest spec node along `path` (literal keys before `|` and `*` keys)."""
    node, where = spec, ["spec"]
    for seg in path:
        if not isinstance(node, dict):
            break
        keys = sorted(node, key=lambda k: ("*" in k, "|" in k))
        key = next((k for k in keys if _matches(k, str(seg))), None)
        if key is None:
            break
        where.append(key)
        node = node[key]
    return pointer(where)


def explain(chain: JoltChain, data: Any, ctx: Any) -> Explanation:
    output = chain.apply(data, ctx)
    current = deep_copy(data)
    lineage: dict[Path, list[str]] = {path: [] for path, _ in leaves(current)}
    unmatched: tuple[str, ...] | None = None
    for step, transform, entry, fn in zip(
        chain.steps, chain._transforms, chain._entries, chain._fns, strict=True
    ):
        label = f"chain[{step.index}] {step.operation}"
        if isinstance(transform, Shift):
            trace: list[tuple[tuple[str, ...], tuple[str, ...], str, tuple[tuple[str, ...], ...]]] | None = (
                None
            )
            if step.compiled:
                try:
                    traced: Any = codegen.generate(transform, entry, first=False, trace=True)
                    trace = []
                    result = traced(current, ctx, trace)
                except Unsupported:
                    trace = None
            if trace is None:
                result = fn(current, ctx)
            new: dict[Path, list[str]] = {}
            for path, _ in leaves(result):
                if trace is None:
                    new[path] = [f"{label} (jolt-py: not traced)"]
                    continue
                hits = [t for t in trace if _prefix(t[0], path)]
                if not hits:
                    new[path] = [f"{label}"]
                    continue
                longest = max(len(t[0]) for t in hits)
                same = [t for t in hits if len(t[0]) == longest]
                pick = same[-1]
                rest = path[longest:]
                if len(same) > 1 and rest and isinstance(rest[0], int) and rest[0] < len(same):
                    pick, rest = same[rest[0]], rest[1:]  # values that accumulated into a list, in order
                source: Path = (*pick[1], *rest)
                earlier = _lookup(lineage, source)
                from_input = [] if earlier else [f"input {pointer(source)}"]
                new[path] = [f"{label} /spec{pick[2]} <- {pointer(source)}", *(earlier or []), *from_input][
                    :8
                ]
            if unmatched is None and trace is not None:
                used = [tuple(t[1]) for t in trace] + [tuple(read) for t in trace for read in t[3]]
                unmatched = tuple(
                    pointer(path)
                    for path, _ in leaves(current)
                    if not any(
                        _prefix(tuple(str(u) for u in p), path) or _prefix(tuple(map(str, path)), p)
                        for p in used
                    )
                    and path
                )
            lineage, current = new, result
        else:
            before = {path: value for path, value in leaves(deep_copy(current))}
            result = fn(current, ctx)
            new = {}
            for path, value in leaves(result):
                kept = path in before and _same(before[path], value)
                previous = _lookup(lineage, path) or []
                new[path] = (
                    previous if kept else [f"{label} {spec_pointer(entry.get('spec'), path)}", *previous]
                )
            lineage, current = new, result
    fields = []
    for path, value in leaves(output):
        produced = lineage.get(path) or [f"input {pointer(path)}"]
        fields.append(FieldOrigin(pointer(path), value, tuple(produced)))
    return Explanation(output, tuple(s.describe() for s in chain.steps), tuple(fields), unmatched or ())
