"""Remove and sort, generated (sort has no spec: it is one fixed function)."""

from __future__ import annotations

from typing import Any

from pyjolt._common.paths import LiteralPathElement, StarAllPathElement
from pyjolt.transforms.remove import Remove, _CompositeSpec, _Spec

from eventsync.transforms.joltc.source import Source, Unsupported

_MAX_DEPTH = 40


def _index(spec: _Spec) -> int | None:
    return spec._index()


def _process(src: Source, children: list[_Spec], sub: str, depth: int) -> None:
    """_CompositeSpec._process_children(sub).

    Children are visited in order; a child with children of its own is generated once (its
    matching items chosen by the kind of `sub`), a leaf collects what to delete; deleting
    comes last, as in jolt-py.
    """
    if depth > _MAX_DEPTH:
        raise Unsupported(f"a spec nested deeper than {_MAX_DEPTH}")
    idxs, keys = src.name("ix"), src.name("ks")
    src.line(f"{idxs} = set()")
    src.line(f"{keys} = []")
    for child in children:
        pe = child.path_element
        literal = isinstance(pe, LiteralPathElement)
        if isinstance(child, _CompositeSpec):
            items = src.name("its")
            src.line(f"if isinstance({sub}, list):")
            if literal:
                i = _index(child)
                src.line(
                    f"    {items} = [{sub}[{i}]] if {i} < len({sub}) else ()"
                    if i is not None
                    else f"    {items} = ()"
                )
            elif isinstance(pe, StarAllPathElement):
                src.line(f"    {items} = list({sub})")
            else:
                src.line(f"    {items} = ()")
            src.line(f"elif isinstance({sub}, dict):")
            if literal:
                src.line(f"    {items} = ({sub}.get({pe.raw_key!r}),)")
            elif isinstance(pe, StarAllPathElement):
                src.line(f"    {items} = list({sub}.values())")
            else:
                src.line(
                    f"    {items} = [v for k, v in list({sub}.items()) if {src.const(pe, 'P')}.string_match(k)]"
                )
            src.line("else:")
            src.line(f"    {items} = ()")
            item = src.name("it")
            src.line(f"for {item} in {items}:")
            src.indent()
            _process(src, child.children, item, depth + 1)
            src.dedent()
            continue
        src.line(f"if isinstance({sub}, list):")
        src.indent()
        if literal:
            i = _index(child)
            if i is not None:
                src.line(f"if {i} < len({sub}):")
                src.line(f"    {idxs}.add({i})")
        elif isinstance(pe, StarAllPathElement):
            src.line(f"{idxs}.update(range(len({sub})))")
        src.line("pass")
        src.dedent()
        src.line(f"elif isinstance({sub}, dict):")
        src.indent()
        if literal:
            src.line(f"if {pe.raw_key!r} in {sub}:")
            src.line(f"    {keys}.append({pe.raw_key!r})")
        elif isinstance(pe, StarAllPathElement):
            src.line(f"{keys}.extend({sub})")
        else:
            src.line(f"{keys}.extend([k for k in {sub} if {src.const(pe, 'P')}.string_match(k)])")
        src.dedent()
    n, k = src.name("i"), src.name("k")
    src.line(f"if isinstance({sub}, list):")
    src.line(f"    for {n} in sorted({idxs}, reverse=True):")
    src.line(f"        del {sub}[{n}]")
    src.line(f"elif isinstance({sub}, dict):")
    src.line(f"    for {k} in {keys}:")
    src.line(f"        {sub}.pop({k}, None)")


def generate(step: Remove) -> Any:
    """The remove as one Python function `(data, ctx) -> data`, changing `data` in place."""
    src = Source()
    src.line("def remove(data, ctx=None, trace=None):")
    src.indent()
    _process(src, step._root.children, "data", 0)
    src.line("return data")
    return src.build("remove", {})


def _key_order(key: str) -> tuple[bool, bytes]:
    # Java Sortr: "~" keys first, then String.compareTo order (UTF-16 code units).
    return not key.startswith("~"), key.encode("utf-16-be", "surrogatepass")


def _text_order(key: str) -> tuple[bool, str]:
    return not key.startswith("~"), key


def _sorted(val: Any) -> Any:
    """A sorted copy (never changes `val`, so a chain that starts with sort needs no copy first)."""
    if isinstance(val, dict):
        # Keys without characters beyond U+FFFF compare the same as code points and as UTF-16
        # code units, so they need no encoding.
        order = _text_order if all(k.isascii() for k in val) else _key_order
        return {k: _sorted(val[k]) for k in sorted(val, key=order)}
    if isinstance(val, list):
        return [_sorted(item) for item in val]
    return val


def sort(data: Any, ctx: Any = None, trace: Any = None) -> Any:
    return _sorted(data)
