"""Default, generated: the spec tree (jolt-py's parse, its precedence order) as nested code.

Literal keys become one `get` each, `a|b` a check per alternative, `*` a loop; a scalar
default is written as a constant and an object or array default as a fresh copy.
"""

from __future__ import annotations

from typing import Any

from pyjolt.exceptions import TransformError as PyJoltTransformError
from pyjolt.transforms.default import _LITERAL, _OR, _STAR, Default, _Key

from eventsync.transforms.joltc.source import Source, Unsupported, deep_copy

_MAX_DEPTH = 40


def _value(src: Source, value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"_dc({src.const(value, 'D')})"
    if value is None or isinstance(value, (bool, int, str)) or (isinstance(value, float) and value == value):
        return repr(value)
    return src.const(value, "D")


def _pointer(path: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _raw_names(raw: Any) -> dict[str, str]:
    """jolt-py's key (after dropping '[]') -> the spec's own key."""
    if not isinstance(raw, dict):
        return {}
    return {(k[:-2] if k.endswith("[]") else k).replace("[]", ""): k for k in raw}


class _Gen:
    def __init__(self, trace: bool) -> None:
        self.src = Source()
        self.trace = trace

    def children(self, key: _Key, var: str, raw: Any, ptr: list[str], depth: int) -> None:
        """_Key.apply_children on `var` (never None)."""
        if depth > _MAX_DEPTH:
            raise Unsupported(f"a spec nested deeper than {_MAX_DEPTH}")
        if key.children is None:
            return
        src = self.src
        if key.is_array_output and key.output_array_size >= 0:
            src.line(f"if isinstance({var}, list):")
            src.line(f"    while len({var}) <= {key.output_array_size}:")
            src.line(f"        {var}.append(None)")
        names = _raw_names(raw)
        for child in key.children:
            raw_key = names.get(child.raw_key, child.raw_key)
            sub_raw = raw.get(raw_key) if isinstance(raw, dict) else None
            self.child(child, var, sub_raw, [*ptr, raw_key], depth + 1)

    def child(self, key: _Key, container: str, raw: Any, ptr: list[str], depth: int) -> None:
        """_Key.apply_child: every matching key / index of `container`."""
        src = self.src
        if key.parent_is_array:
            src.line(f"if isinstance({container}, list):")
            src.indent()
            if key.op == _LITERAL:
                for i in key.key_ints:
                    self.at(key, container, repr(i), True, raw, ptr, depth)
            elif key.op == _OR:
                for i in key.key_ints:
                    src.line(f"if {i} < len({container}):")
                    src.indent()
                    self.at(key, container, repr(i), True, raw, ptr, depth)
                    src.dedent()
            else:
                idx = src.name("i")
                src.line(f"for {idx} in range(len({container})):")
                src.indent()
                self.at(key, container, idx, True, raw, ptr, depth)
                src.dedent()
            src.line("pass")
            src.dedent()
            return
        src.line(f"if isinstance({container}, dict):")
        src.indent()
        if key.op == _LITERAL:
            self.at(key, container, repr(key.key_strings[0]), False, raw, ptr, depth)
        elif key.op == _OR:
            present = src.name("p")
            src.line(f"{present} = [k for k in {src.const(tuple(key.key_strings), 'O')} if k in {container}]")
            k = src.name("k")
            src.line(f"for {k} in {present}:")
            src.indent()
            self.at(key, container, k, False, raw, ptr, depth)
            src.dedent()
        elif key.op == _STAR:
            k = src.name("k")
            src.line(f"for {k} in list({container}):")
            src.indent()
            self.at(key, container, k, False, raw, ptr, depth)
            src.dedent()
        src.line("pass")
        src.dedent()

    def at(
        self, key: _Key, container: str, k: str, in_list: bool, raw: Any, ptr: list[str], depth: int
    ) -> None:
        """_Key._apply_at(container, k)."""
        src = self.src
        v = src.name("v")
        opened = 0
        if in_list:
            src.line(f"if 0 <= {k} < len({container}):")
            src.indent()
            opened = 1
            src.line(f"{v} = {container}[{k}]")
        else:
            src.line(f"{v} = {container}.get({k})")
        if key.children is None:
            src.line(f"if {v} is None:")
            src.line(f"    {container}[{k}] = {_value(src, key.literal_value)}")
            if self.trace:
                src.line(f"    trace.append(({container}, {k}, {_pointer(ptr)!r}))")
        else:
            src.line(f"if {v} is None:")
            src.line(f"    {v} = {container}[{k}] = {'[]' if key.is_array_output else '{}'}")
            self.children(key, v, raw, ptr, depth)
        for _ in range(opened):
            src.dedent()


def generate(step: Default, spec: dict[str, Any], *, trace: bool = False) -> Any:
    """The default as one Python function `(data, ctx) -> data`, changing `data` in place."""
    g = _Gen(trace)
    src = g.src
    src.line("def default(data, ctx=None, trace=None):")
    src.indent()
    src.line("if data is None:")
    src.line("    data = {}")
    src.line("if isinstance(data, list):")
    src.indent()
    if step._array_root is None:
        src.line(f"raise _TE({'The Spec provided can not handle input that is a top level Json Array.'!r})")
    else:
        g.children(step._array_root, "data", spec, [], 0)
        src.line("pass")
    src.dedent()
    src.line("else:")
    src.indent()
    g.children(step._map_root, "data", spec, [], 0)
    src.line("pass")
    src.dedent()
    src.line("return data")
    return src.build("default", {"_dc": deep_copy, "_TE": PyJoltTransformError})
