"""Cardinality, generated: ONE / MANY adjustments as inline code over the data, in place."""

from __future__ import annotations

from typing import Any

from pyjolt._common.paths import (
    StarAllPathElement,
    StarPathElement,
    StarRegexPathElement,
    StarSinglePathElement,
)
from pyjolt.transforms.cardinality import Cardinality, _CompositeSpec, _LeafSpec

from eventsync.transforms.joltc.source import Source, Unsupported

_MAX_DEPTH = 40


def _adjust(
    src: Source, leaf: _LeafSpec, value: str, parent: str, slot: str, result: str | None = None
) -> None:
    """_LeafSpec._adjust with a known container `parent[slot]`; `result` receives the new value."""
    if leaf.many:
        out = result or src.name("r")
        src.line(f"{out} = {value} if isinstance({value}, list) else [] if {value} is None else [{value}]")
        src.line(f"{parent}[{slot}] = {out}")
    else:
        src.line(f"if isinstance({value}, list):")
        src.indent()
        out = result or src.name("r")
        src.line(f"{out} = {value}[0] if {value} else None")
        src.line(f"{parent}[{slot}] = {out}")
        src.dedent()
        if result is not None:
            src.line("else:")
            src.line(f"    {result} = None")


def _child(src: Source, child: Any, value: str, parent: str, slot: str, depth: int) -> None:
    if isinstance(child, _CompositeSpec):
        _composite(src, child, value, parent, slot, depth + 1)
    else:
        _adjust(src, child, value, parent, slot)


def _dispatch(
    src: Source, node: _CompositeSpec, key: str, value: str, parent: str, slot: str, depth: int
) -> None:
    """_apply_key: a child registered under exactly this key, else the first computed key that matches."""
    first = True
    for raw_key, child in node.literal_children.items():
        if isinstance(child.path_element, StarAllPathElement) and not any(
            not isinstance(c.path_element, StarPathElement) or c.path_element.string_match(raw_key)
            for c in node.computed_children[: node.computed_children.index(child)]
        ):
            # a `*` child is also registered under the key "*"; that key reaches it through
            # the computed keys anyway (nothing before it matches "*"), so generate it once
            continue
        src.line(f"{'if' if first else 'elif'} {key} == {raw_key!r}:")
        first = False
        src.indent()
        _child(src, child, value, parent, slot, depth)
        src.line("pass")
        src.dedent()
    for child in node.computed_children:
        pe = child.path_element
        if isinstance(pe, StarAllPathElement):
            cond = "True"
        elif isinstance(pe, StarSinglePathElement):
            lp, ls = len(pe.prefix), len(pe.suffix)
            cond = f"{key}.startswith({pe.prefix!r}) and {key}.endswith({pe.suffix!r}) and len({key}) > {lp + ls}"
        elif isinstance(pe, StarRegexPathElement):
            cond = f"{src.const(pe, 'P')}.string_match({key})"
        else:
            raise Unsupported(f"a cardinality key {pe.raw_key!r} ({type(pe).__name__})")
        src.line(f"{'if' if first else 'elif'} {cond}:")
        first = False
        src.indent()
        _child(src, child, value, parent, slot, depth)
        src.line("pass")
        src.dedent()
        if cond == "True":
            break


def _composite(
    src: Source, node: _CompositeSpec, value: str, parent: str | None, slot: str, depth: int
) -> None:
    if depth > _MAX_DEPTH:
        raise Unsupported(f"a spec nested deeper than {_MAX_DEPTH}")
    if node.special_child is not None:
        if parent is None:
            return  # `@` at the top has no container to write to: jolt-py then does nothing
        adjusted = src.name("c")
        _adjust(src, node.special_child, value, parent, slot, adjusted)
        value = adjusted
    # Objects and arrays share one loop (so the children are generated once, not once per
    # kind of parent): `slot` is the key or the index, `k` its text.
    it, slot, x, k = src.name("it"), src.name("sl"), src.name("x"), src.name("k")
    src.line(f"if isinstance({value}, dict):")
    src.line(f"    {it} = list({value}.items())")
    src.line(f"elif isinstance({value}, list):")
    src.line(f"    {it} = list(enumerate({value}))")
    src.line("else:")
    src.line(f"    {it} = ()")
    src.line(f"for {slot}, {x} in {it}:")
    src.indent()
    src.line(f"{k} = {slot} if {slot}.__class__ is str else str({slot})")
    _dispatch(src, node, k, x, value, slot, depth)
    src.dedent()
    # A scalar's text is matched too, but with a text as the parent nothing can change.


def generate(step: Cardinality) -> Any:
    """The cardinality as one Python function `(data, ctx) -> data`, changing `data` in place."""
    src = Source()
    src.line("def cardinality(data, ctx=None, trace=None):")
    src.indent()
    _composite(src, step._root, "data", None, "None", 0)
    src.line("return data")
    return src.build("cardinality", {})
