"""Shift, generated: each spec node becomes inline matching code and each output path a nested set.

The walk mirrors jolt-py's `Shift` step for step (special keys first, then the composite's
execution strategy: available literals, computed keys in precedence order, or the conflict
walk), because write order decides how values accumulate into lists. What jolt-py keeps in a
run-time walked path (matched keys, `*` captures, the input subtrees) is known here at
generation time as local variable names, so `&1`, `$2` or `@(1,question)` are plain reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyjolt._common.paths import (
    AmpPathElement,
    AmpReference,
    ArrayPathElement,
    AtPathElement,
    DollarPathElement,
    HashPathElement,
    HashReference,
    LiteralPathElement,
    PathEvaluatingTraversal,
    StarAllPathElement,
    StarDoublePathElement,
    StarRegexPathElement,
    StarSinglePathElement,
    TransposePathElement,
    _ArrayStep,
    _AutoExpandStep,
    _MapStep,
    build_matchable_path_element,
)
from pyjolt._common.spec import ExecutionStrategy
from pyjolt._common.util import MISSING, java_str, parse_int, try_parse_int
from pyjolt.transforms.shift import Shift, _CompositeSpec, _LeafSpec

from eventsync.transforms.joltc.source import SCALARS, Source, Unsupported, own_copy

_MAP, _ARRAY, _AUTO = 0, 1, 2
_MAX_DEPTH = 40


@dataclass(frozen=True)
class Level:
    """One entry of jolt-py's walked path, as expressions in the generated code."""

    key: str
    groups: tuple[str, ...] = ()
    tree: str = "None"
    orig: str = "None"  # the array's size before expansion, when the level matched an array index (modify)
    hash: str = "0"  # how many children matched under this key so far (`[#n]`); a fresh match has 0


@dataclass
class _Gen:
    src: Source
    own: bool
    trace: bool
    depth: int = 0
    patterns: list[tuple[str | None, ...]] = field(default_factory=list)
    """Every writer's output path: literal keys, None where the key is computed per record."""
    caches: dict[tuple[str, ...], str] = field(default_factory=dict)
    counts: bool = False
    """Whether any output path uses `[#n]`, so match counts are kept."""
    loops: int = 0
    """How many generated loops enclose the code being emitted."""


def _only_writer(g: _Gen, writer: PathEvaluatingTraversal) -> bool:
    """True when no other writer (nor this one twice) can write at, below or above this literal path."""
    mine = _pattern(writer)
    if None in mine:
        return False
    hits = 0
    for pat in g.patterns:
        if len(pat) >= len(mine):
            hits += all(p is None or p == k for p, k in zip(pat, mine, strict=False))
        elif all(p is None or p == k for p, k in zip(pat, mine, strict=False)):
            # a writer that can end on an ancestor may put a whole object there, keys and all
            return False
    return hits == 1


def _pattern(writer: PathEvaluatingTraversal) -> tuple[str | None, ...]:
    return tuple(e.raw_key if isinstance(e, LiteralPathElement) else None for e in writer.elements)


def _collect(node: Any, out: list[tuple[str | None, ...]]) -> None:
    if isinstance(node, _CompositeSpec):
        for child in [*node.special_children, *node.literal_children.values(), *node.computed_children]:
            _collect(child, out)
    else:
        out.extend(_pattern(w) for w in node.writers)


def _uses_hash(node: Any) -> bool:
    if isinstance(node, _CompositeSpec):
        children = [*node.special_children, *node.literal_children.values(), *node.computed_children]
        return any(_uses_hash(c) for c in children)
    return any(
        isinstance(e, ArrayPathElement) and isinstance(e.ref, HashReference)
        for w in node.writers
        for e in w.elements
    )


def _stable_prefix(g: _Gen, writer: PathEvaluatingTraversal, intermediates: int) -> tuple[str, ...]:
    """The longest literal prefix of this output path that no writer can overwrite.

    Output containers are only ever replaced by a write that ends exactly on them (values
    accumulate into a list there); a prefix on which no writer can end, nor on any shorter
    prefix of it, keeps the same container for the whole record.
    """
    keys: list[str] = []
    for e in writer.elements[:intermediates]:
        if not isinstance(e, LiteralPathElement):
            break
        keys.append(e.raw_key)
    for length in range(1, len(keys) + 1):
        for pat in g.patterns:
            if len(pat) == length and all(p is None or p == k for p, k in zip(pat, keys, strict=False)):
                return tuple(keys[: length - 1])
    return tuple(keys)


def _nonneg(key: str | None) -> str | None:
    if key is None:
        return None
    n = try_parse_int(key)
    return key if n is not None and n >= 0 else None


def _tkey(data: Any) -> str | None:
    """TransposePathElement.evaluate: a looked-up value used as a key."""
    if data is MISSING:
        return None
    if isinstance(data, bool):
        return "true" if data else "false"
    if isinstance(data, (int, float)):
        try:
            return str(int(data))
        except (OverflowError, ValueError):
            return None
    if isinstance(data, str):
        return data
    return None


def _read(tree: Any, keys: tuple[str | None, ...], kinds: tuple[int, ...]) -> Any:
    """Traversr.get over an `@(n,path)` path."""
    for key, kind in zip(keys, kinds, strict=True):
        if key is None:
            return MISSING
        if kind == _MAP:
            if not isinstance(tree, dict):
                return MISSING
            tree = tree.get(key, MISSING)
        else:
            if not isinstance(tree, list) or kind == _AUTO:
                return MISSING
            i = parse_int(key)
            tree = tree[i] if 0 <= i < len(tree) else MISSING
        if tree is MISSING:
            return MISSING
    return tree


def _write(out: dict[str, Any], keys: tuple[str, ...], kinds: tuple[int, ...], data: Any) -> bool:
    """ShiftrTraversr.set for paths with array steps; True when the value was placed."""
    tree: Any = out
    last = len(keys) - 1
    for pos, (key, kind) in enumerate(zip(keys, kinds, strict=True)):
        if kind == _MAP:
            if not isinstance(tree, dict):
                return False
        elif not isinstance(tree, list):
            return False
        if pos == last:
            if kind == _MAP:
                existing = tree.get(key, MISSING)
            elif kind == _ARRAY:
                i = parse_int(key)
                existing = tree[i] if 0 <= i < len(tree) else MISSING
            else:
                existing = MISSING
            if existing is MISSING or existing is None:
                value = data
            elif isinstance(existing, list):
                existing.append(data)
                return True
            else:
                value = [existing, data]
        else:
            if kind == _MAP:
                sub = tree.get(key)
            elif kind == _ARRAY:
                i = parse_int(key)
                sub = tree[i] if 0 <= i < len(tree) else None
            else:
                sub = None
            if sub is not None:
                tree = sub
                continue
            value = [] if kinds[pos + 1] != _MAP else {}
        if kind == _MAP:
            tree[key] = value
        elif kind == _ARRAY:
            i = parse_int(key)
            while len(tree) <= i:
                tree.append(None)
            tree[i] = value
        else:
            tree.append(value)
        tree = value
    return True


_NAMESPACE = {
    "_M": MISSING,
    "_jstr": java_str,
    "_nonneg": _nonneg,
    "_tkey": _tkey,
    "_read": _read,
    "_write": _write,
    "_own": own_copy,
    "_SC": SCALARS,
}


def _kinds(traversal: PathEvaluatingTraversal) -> list[int]:
    kinds: list[int] = []
    step: Any = traversal.traversr.root
    while step is not None:
        if isinstance(step, _AutoExpandStep):
            kinds.append(_AUTO)
        elif isinstance(step, _ArrayStep):
            kinds.append(_ARRAY)
        elif isinstance(step, _MapStep):
            kinds.append(_MAP)
        else:
            raise Unsupported(f"traversal step {type(step).__name__}")
        step = step.child
    return kinds


def _ref(levels: list[Level], path_index: int, key_group: int) -> str:
    if path_index >= len(levels):
        raise Unsupported(f"a reference {path_index} levels up, above the root")
    level = levels[-1 - path_index]
    if key_group == 0:
        return level.key
    if key_group - 1 >= len(level.groups):
        raise Unsupported(f"a reference to capture group {key_group} that the key does not have")
    return level.groups[key_group - 1]


def _object_eval(g: _Gen, pe: TransposePathElement, levels: list[Level]) -> str:
    """An expression for `@(n,path)`: the input value there, or MISSING."""
    if pe.up_level >= len(levels):
        raise Unsupported(f"{pe.raw_key} goes above the root")
    tree = levels[-1 - pe.up_level].tree
    reader = pe.sub_path_reader
    if reader is None:
        return tree
    keys = [_key_expr(g, e, kind, levels)[0] for e, kind in zip(reader.elements, _kinds(reader), strict=True)]
    return read_expr(g.src, tree, keys, _kinds(reader))


def read_expr(src: Source, tree: str, keys: list[str], kinds: list[int]) -> str:
    """`_read(tree, keys)`, inline when every step is a literal object key (the common `@(1,id)`)."""
    if all(k == _MAP for k in kinds) and all(key.startswith(("'", '"')) for key in keys) and len(keys) <= 4:
        known = tree in src.known_dicts
        if len(keys) == 1:
            if known:
                return f"{tree}.get({keys[0]}, _M)"
            return f"({tree}.get({keys[0]}, _M) if isinstance({tree}, dict) else _M)"
        q = src.name("q")
        head = f"({q} := {tree}.get({keys[0]}, _M))"
        if not known:
            head = f"({head} if isinstance({tree}, dict) else _M)"
        return f"(_M if {head} is _M else {read_expr(src, q, keys[1:], kinds[1:])})"
    return f"_read({tree}, ({', '.join(keys)},), {src.const(tuple(kinds), 'K')})"


def _key_expr(g: _Gen, pe: Any, kind: int, levels: list[Level]) -> tuple[str, bool]:
    """An expression for one output/read path element's key, and whether it may be None."""
    if isinstance(pe, LiteralPathElement):
        if kind != _MAP:
            raise Unsupported(f"literal key {pe.raw_key!r} read as an array index")
        return repr(pe.raw_key), False
    if isinstance(pe, AmpPathElement):
        parts = [
            repr(t) if isinstance(t, str) else _ref(levels, t.path_index, t.key_group) for t in pe.tokens
        ]
        return (" + ".join(parts) if parts else "''"), False
    if isinstance(pe, ArrayPathElement):
        if pe.ref is None and pe.transpose is None:
            return repr(pe.canonical_form if pe.canonical_form == "[]" else pe.array_index), False
        if isinstance(pe.ref, AmpReference):
            return f"_nonneg({_ref(levels, pe.ref.path_index, pe.ref.key_group)})", True
        if pe.transpose is not None:
            return f"_nonneg(_tkey({_object_eval(g, pe.transpose, levels)}))", True
        if isinstance(pe.ref, HashReference):
            if pe.ref.path_index >= len(levels):
                raise Unsupported(f"{pe.raw_key} goes above the root")
            return f"str({levels[-1 - pe.ref.path_index].hash})", False
        raise Unsupported(f"array index {pe.raw_key!r}")
    if isinstance(pe, TransposePathElement):
        # a looked-up text is the key as it is; anything else goes through _tkey
        q = g.src.name("q")
        return f"({q} if ({q} := {_object_eval(g, pe, levels)}).__class__ is str else _tkey({q}))", True
    raise Unsupported(f"output path element {type(pe).__name__}")


def _pointer(path: list[str]) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in path)


def _emit_write(
    g: _Gen,
    writer: PathEvaluatingTraversal,
    data: str,
    copyable: bool,
    levels: list[Level],
    ptr: list[str],
    source: list[str] | None = None,
) -> None:
    src = g.src
    kinds = _kinds(writer)
    keys = [_key_expr(g, e, k, levels) for e, k in zip(writer.elements, kinds, strict=True)]
    opened = 0
    names: list[str] = []
    for expr, maybe_none in keys:
        if maybe_none:
            name = src.name("k")
            src.line(f"{name} = {expr}")
            src.line(f"if {name} is not None:")
            src.indent()
            opened += 1
            names.append(name)
        else:
            names.append(expr)
    value = data
    if g.own and copyable:
        value = f"({data} if {data}.__class__ in _SC else _own({data}, memo))"
        if not (all(k == _MAP for k in kinds) and g.loops == 0 and _only_writer(g, writer)) or g.trace:
            # used more than once below: evaluate (and copy) once
            name = src.name("w")
            src.line(f"{name} = {value}")
            value = name
    trace_line = ""
    if g.trace:
        # (output keys, the input keys the value came from, the spec pointer of the leaf)
        # and the input keys the spec matched on the way (the walked path)
        # (and `@(n,path)` keys of the output path read input too)
        walked = [level.key for level in levels[2:]]
        src_keys = source if source is not None else walked
        reads = [walked]
        for element in writer.elements:
            looked = element.transpose if isinstance(element, ArrayPathElement) else element
            if isinstance(looked, TransposePathElement):
                reads.append(_transpose_source(looked, levels) or walked)
        read_text = ", ".join(f"({', '.join(r)}{',' if r else ''})" for r in reads)
        trace_line = (
            f"trace.append((({', '.join(names[1:])}{',' if len(names) > 1 else ''}), "
            f"({', '.join(src_keys)}{',' if src_keys else ''}), {_pointer(ptr)!r}, ({read_text},)))"
        )
    if all(k == _MAP for k in kinds):
        tree = "out"
        prefix = _stable_prefix(g, writer, len(names) - 1)
        if prefix:
            # The container at a stable prefix, once found, stays put: look it up once per record.
            cache = g.caches.setdefault(prefix, f"pc{len(g.caches)}")
            tree = cache
            src.line(f"if {tree} is None:")
            src.indent()
            parent = "out"
            for name in names[: len(prefix)]:
                sub = src.name("t")
                src.line(f"{sub} = {parent}.get({name})")
                src.line(f"if {sub} is None:")
                src.line(f"    {sub} = {parent}[{name}] = {{}}")
                src.line(f"if isinstance({sub}, dict):")
                src.indent()
                parent = sub
            src.line(f"{cache} = {parent}")
            for _ in range(len(prefix) + 1):
                src.dedent()
            src.line(f"if {tree} is not None:")
            src.indent()
            opened += 1
        for i, name in enumerate(names):
            if i < len(prefix):
                continue
            if i < len(names) - 1:
                sub = src.name("t")
                src.line(f"{sub} = {tree}.get({name})")
                src.line(f"if {sub} is None:")
                src.line(f"    {sub} = {tree}[{name}] = {{}}")
                src.line(f"if isinstance({sub}, dict):")
                src.indent()
                opened += 1
                tree = sub
            elif g.loops == 0 and _only_writer(g, writer):
                # nothing else can have written here: no accumulation to check
                src.line(f"{tree}[{name}] = {value}")
                if trace_line:
                    src.line(trace_line)
            else:
                e = src.name("e")
                src.line(f"{e} = {tree}.get({name}, _M)")
                src.line(f"if {e} is _M or {e} is None:")
                src.line(f"    {tree}[{name}] = {value}")
                src.line(f"elif isinstance({e}, list):")
                src.line(f"    {e}.append({value})")
                src.line("else:")
                src.line(f"    {tree}[{name}] = [{e}, {value}]")
                if trace_line:
                    src.line(trace_line)
    else:
        kinds_name = src.const(tuple(kinds), "K")
        call = f"_write(out, ({', '.join(names)},), {kinds_name}, {value})"
        if trace_line:
            src.line(f"if {call}:")
            src.line(f"    {trace_line}")
        else:
            src.line(call)
    for _ in range(opened):
        src.dedent()


def _raw_keys(raw: dict[str, Any]) -> dict[str, str]:
    """Canonical form of each expanded child key -> the spec's own key (for pointers)."""
    out: dict[str, str] = {}
    for raw_lhs in raw:
        for key in str(raw_lhs).split("|"):
            out[build_matchable_path_element(key).canonical_form] = str(raw_lhs)
    return out


def _writers(
    g: _Gen,
    leaf: _LeafSpec,
    raw_rhs: Any,
    data: str,
    copyable: bool,
    levels: list[Level],
    ptr: list[str],
    source: list[str] | None = None,
) -> None:
    many = isinstance(raw_rhs, list)
    for i, writer in enumerate(leaf.writers):
        _emit_write(g, writer, data, copyable, levels, [*ptr, str(i)] if many else ptr, source)


def _emit_leaf(
    g: _Gen,
    leaf: _LeafSpec,
    raw_rhs: Any,
    key: str,
    groups: tuple[str, ...],
    val: str,
    levels: list[Level],
    ptr: list[str],
) -> None:
    """A literal or `*` leaf that matched input key `key` with value `val` ('None' when missing)."""
    lv = [*levels, Level(key, groups, val)]
    _writers(g, leaf, raw_rhs, val, val != "None", lv, ptr)


def _transpose_source(pe: TransposePathElement, levels: list[Level]) -> list[str] | None:
    """The input keys `@(n,path)` reads, for tracing (None when the path is not all literal)."""
    reader = pe.sub_path_reader
    elements = [] if reader is None else reader.elements
    if not all(isinstance(e, LiteralPathElement) for e in elements):
        return None
    base = [level.key for level in levels[2 : max(2, len(levels) - pe.up_level)]]
    return [*base, *(repr(e.raw_key) for e in elements)]


def _emit_special(
    g: _Gen, child: Any, raw_rhs: Any, comp: Level, val: str, levels: list[Level], ptr: list[str]
) -> None:
    """`@`, `$`, `#` and `@(n,path)` keys: applied with the composite's own key and value."""
    pe = child.path_element
    here = [level.key for level in levels[2:]]  # traced as coming from the composite itself
    if isinstance(child, _CompositeSpec):
        if not isinstance(pe, TransposePathElement):
            raise Unsupported(f"special key {pe.raw_key!r} with children")
        # `@(n,path)` with children: walk the looked-up value as if it were this key's value
        data = g.src.name("x")
        g.src.line(f"{data} = {_object_eval(g, pe, levels)}")
        g.src.line(f"if {data} is not _M:")
        g.src.indent()
        _emit_composite(g, child, raw_rhs, comp.key, comp.groups, data, levels, ptr, shared_hash=comp.hash)
        _count(g, comp)
        g.src.line("pass")
        g.src.dedent()
        return
    if isinstance(pe, AtPathElement):
        _writers(
            g,
            child,
            raw_rhs,
            val,
            val != "None",
            [*levels, Level(comp.key, comp.groups, val, hash=comp.hash)],
            ptr,
            here,
        )
    elif isinstance(pe, DollarPathElement):
        key = g.src.name("d")
        g.src.line(f"{key} = {_ref(levels, pe.ref.path_index, pe.ref.key_group)}")
        _writers(g, child, raw_rhs, key, False, [*levels, Level(key, (), val)], ptr, here)
    elif isinstance(pe, HashPathElement):
        key = repr(pe.key_value)
        _writers(g, child, raw_rhs, key, False, [*levels, Level(key, (), val)], ptr, here)
    elif isinstance(pe, TransposePathElement):
        data = g.src.name("x")
        g.src.line(f"{data} = {_object_eval(g, pe, levels)}")
        g.src.line(f"if {data} is not _M:")
        g.src.indent()
        _writers(
            g,
            child,
            raw_rhs,
            data,
            True,
            [*levels, Level(comp.key, comp.groups, val, hash=comp.hash)],
            ptr,
            _transpose_source(pe, levels) or here,
        )
        g.src.dedent()
    else:
        raise Unsupported(f"special key {type(pe).__name__}")


def _emit_child(
    g: _Gen,
    child: Any,
    raw_rhs: Any,
    key: str,
    groups: tuple[str, ...],
    val: str,
    levels: list[Level],
    ptr: list[str],
) -> None:
    if isinstance(child, _CompositeSpec):
        _emit_composite(g, child, raw_rhs, key, groups, val, levels, ptr)
    else:
        _emit_leaf(g, child, raw_rhs, key, groups, val, levels, ptr)
    _count(g, levels[-1])  # a literal or `*` child matched under its parent


def _count(g: _Gen, level: Level) -> None:
    if level.hash != "0":
        g.src.line(f"{level.hash} += 1")


def _emit_computed(
    g: _Gen, node: _CompositeSpec, raw: dict[str, Any], k: str, x: str, levels: list[Level], ptr: list[str]
) -> None:
    """First computed child whose key matches `k` (precedence order) takes it."""
    src = g.src
    canon = _raw_keys(raw)
    first = True
    for child in node.computed_children:
        pe = child.path_element
        raw_key = canon[pe.canonical_form]
        groups: tuple[str, ...] = ()
        pre: list[str] = []
        if isinstance(pe, StarAllPathElement):
            cond = "True"
        elif isinstance(pe, StarSinglePathElement):
            lp, ls = len(pe.prefix), len(pe.suffix)
            cond = f"{k}.startswith({pe.prefix!r}) and {k}.endswith({pe.suffix!r}) and len({k}) > {lp + ls}"
            grp = src.name("g")
            pre = [f"{grp} = {k}[{lp}:len({k}) - {ls}]"]
            groups = (grp,)
        elif isinstance(pe, (StarDoublePathElement, StarRegexPathElement)):
            m = src.name("m")
            cond = f"({m} := {src.const(pe, 'P')}.match({k}, None)) is not None"
            n = len(pe.raw_key.split("*")) - 1
            groups = tuple(f"{m}.sub_keys[{i}]" for i in range(1, n + 1))
        elif isinstance(pe, AmpPathElement):
            # `&1` as a key: matches the key that the reference names
            cond = f"{k} == {_key_expr(g, pe, _MAP, levels)[0]}"
        else:
            raise Unsupported(f"a computed key {pe.raw_key!r} ({type(pe).__name__})")
        src.line(f"{'if' if first else 'elif'} {cond}:")
        first = False
        src.indent()
        for line in pre:
            src.line(line)
        _emit_child(g, child, raw[raw_key], k, groups, x, levels, [*ptr, raw_key])
        src.line("pass")
        src.dedent()
        if cond == "True":
            break


def _literal_items(node: _CompositeSpec, raw: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    canon = _raw_keys(raw)
    return [
        (key, child, canon[child.path_element.canonical_form]) for key, child in node.literal_children.items()
    ]


SPLIT_LOOPS = 3
"""Composites with at most this many levels of wildcard loops below them get a loop for objects
and another for arrays (fastest; 2^levels copies of the code); deeper ones share one loop."""


def _loop_depth(node: Any) -> int:
    if not isinstance(node, _CompositeSpec):
        return 0
    children = [*node.special_children, *node.literal_children.values(), *node.computed_children]
    below = max((_loop_depth(c) for c in children), default=0)
    return below + (1 if node.computed_children else 0)


def _emit_split(
    g: _Gen,
    node: _CompositeSpec,
    raw: dict[str, Any],
    val: str,
    lv: list[Level],
    ptr: list[str],
    literals: list[tuple[str, Any, Any]],
    avail: bool,
    conflict: bool,
    by_key: Any,
) -> None:
    src = g.src
    src.line(f"if isinstance({val}, dict):")
    src.indent()
    src.known_dicts.add(val)
    if avail:
        for lit, child, raw_key in literals:
            x = src.name("v")
            src.line(f"{x} = {val}.get({lit!r}, _M)")
            src.line(f"if {x} is not _M:")
            src.indent()
            _emit_child(g, child, raw[raw_key], repr(lit), (), x, lv, [*ptr, raw_key])
            src.line("pass")
            src.dedent()
    k, x = src.name("k"), src.name("v")
    items = f"{val}.items()" if g.own else f"list({val}.items())"
    src.line(f"for {k}, {x} in {items}:")
    src.indent()
    g.loops += 1
    if conflict:
        by_key(k, x)
    else:
        _emit_computed(g, node, raw, k, x, lv, ptr)
    g.loops -= 1
    src.dedent()
    src.line("pass")
    src.known_dicts.discard(val)
    src.dedent()

    src.line(f"elif isinstance({val}, list):")
    src.indent()
    if avail:
        for lit, child, raw_key in literals:
            idx = try_parse_int(lit)
            if idx is None or idx < 0:
                continue
            x = src.name("v")
            src.line(f"if len({val}) > {idx}:")
            src.indent()
            src.line(f"{x} = {val}[{idx}]")
            _emit_child(g, child, raw[raw_key], repr(lit), (), x, lv, [*ptr, raw_key])
            src.dedent()
    i, k, x = src.name("i"), src.name("k"), src.name("v")
    if g.own:
        src.line(f"for {i}, {x} in enumerate({val}):")
    else:
        src.line(f"for {i} in range(len({val})):")
        src.line(f"    {x} = {val}[{i}]")
    src.indent()
    g.loops += 1
    lone_star = not conflict and [type(c.path_element) for c in node.computed_children] == [
        StarAllPathElement
    ]
    if lone_star:
        k = f"str({i})"  # only made if a reference or the trace uses it
    else:
        src.line(f"{k} = str({i})")
    if conflict:
        by_key(k, x)
    else:
        _emit_computed(g, node, raw, k, x, lv, ptr)
    g.loops -= 1
    src.dedent()
    src.line("pass")
    src.dedent()

    src.line(f"elif {val} is not None:")
    src.indent()
    s = src.name("s")
    src.line(f"{s} = _jstr({val})")
    if conflict:
        by_key(s, "None")
    else:
        for lit, child, raw_key in literals:
            src.line(f"if {s} == {lit!r}:")
            src.indent()
            _emit_child(g, child, raw[raw_key], s, (), "None", lv, [*ptr, raw_key])
            src.line("pass")
            src.dedent()
        _emit_computed(g, node, raw, s, "None", lv, ptr)
    src.line("pass")
    src.dedent()


def _emit_composite(
    g: _Gen,
    node: _CompositeSpec,
    raw: dict[str, Any],
    key: str,
    groups: tuple[str, ...],
    val: str,
    levels: list[Level],
    ptr: list[str],
    shared_hash: str | None = None,
) -> None:
    """A composite spec node that matched key `key` with value `val` ('None' when missing)."""
    src = g.src
    g.depth += 1
    if g.depth > _MAX_DEPTH:
        raise Unsupported(f"a spec nested deeper than {_MAX_DEPTH}")
    counter = "0"
    if shared_hash is not None:
        counter = shared_hash
    elif g.counts:
        counter = src.name("h")
        src.line(f"{counter} = 0")
    here = Level(key, groups, val, hash=counter)
    lv = [*levels, here]
    canon = _raw_keys(raw)
    for child in node.special_children:
        raw_key = canon[child.path_element.canonical_form]
        _emit_special(g, child, raw[raw_key], here, val, lv, [*ptr, raw_key])
    if val == "None":
        g.depth -= 1
        return
    strategy = node.strategy
    literals = _literal_items(node, raw)
    avail = strategy in (
        ExecutionStrategy.AVAILABLE_LITERALS,
        ExecutionStrategy.AVAILABLE_LITERALS_WITH_COMPUTED,
    )
    computed = strategy in (ExecutionStrategy.COMPUTED, ExecutionStrategy.AVAILABLE_LITERALS_WITH_COMPUTED)
    conflict = strategy is ExecutionStrategy.CONFLICT
    if not (avail or computed or conflict):
        raise Unsupported(f"shift strategy {strategy}")

    def by_key(k: str, x: str) -> None:
        # CONFLICT: an exact literal wins, else the computed keys.
        for i, (lit, child, raw_key) in enumerate(literals):
            src.line(f"{'if' if i == 0 else 'elif'} {k} == {lit!r}:")
            src.indent()
            _emit_child(g, child, raw[raw_key], k, (), x, lv, [*ptr, raw_key])
            src.line("pass")
            src.dedent()
        if literals:
            src.line("else:")
            src.indent()
        _emit_computed(g, node, raw, k, x, lv, ptr)
        src.line("pass")
        if literals:
            src.dedent()

    looping = computed or conflict
    if looping and _loop_depth(node) <= SPLIT_LOOPS:
        _emit_split(g, node, raw, val, lv, ptr, literals, avail, conflict, by_key)
        g.depth -= 1
        return
    # Objects and arrays share one loop for the computed keys, so each child's code is
    # generated once (not once per kind of parent); literal keys are looked up per kind.
    it = src.name("it")
    src.line(f"if isinstance({val}, dict):")
    src.indent()
    src.known_dicts.add(val)
    if avail:
        for lit, child, raw_key in literals:
            x = src.name("v")
            src.line(f"{x} = {val}.get({lit!r}, _M)")
            src.line(f"if {x} is not _M:")
            src.indent()
            _emit_child(g, child, raw[raw_key], repr(lit), (), x, lv, [*ptr, raw_key])
            src.line("pass")
            src.dedent()
    if looping:
        src.line(f"{it} = {val}.items()" if g.own else f"{it} = list({val}.items())")
    src.line("pass")
    src.known_dicts.discard(val)
    src.dedent()

    # an array: keys are the indexes as text
    src.line(f"elif isinstance({val}, list):")
    src.indent()
    if avail:
        for lit, child, raw_key in literals:
            idx = try_parse_int(lit)
            if idx is None or idx < 0:
                continue
            x = src.name("v")
            src.line(f"if len({val}) > {idx}:")
            src.indent()
            src.line(f"{x} = {val}[{idx}]")
            _emit_child(g, child, raw[raw_key], repr(lit), (), x, lv, [*ptr, raw_key])
            src.dedent()
    if looping:
        # as jolt-py's `for i in range(len(v))` reading v[i] each time
        src.line(f"{it} = zip(map(str, range(len({val}))), {val})")
    src.line("pass")
    src.dedent()

    # a scalar: its text matches keys, with no value
    src.line("else:")
    src.indent()
    if looping:
        src.line(f"{it} = ()")
    src.line(f"if {val} is not None:")
    src.indent()
    s = src.name("s")
    src.line(f"{s} = _jstr({val})")
    if conflict:
        by_key(s, "None")
    else:
        for lit, child, raw_key in literals:
            src.line(f"if {s} == {lit!r}:")
            src.indent()
            _emit_child(g, child, raw[raw_key], s, (), "None", lv, [*ptr, raw_key])
            src.line("pass")
            src.dedent()
        if computed:
            _emit_computed(g, node, raw, s, "None", lv, ptr)
    src.line("pass")
    src.dedent()
    src.dedent()

    if looping:
        k, x = src.name("k"), src.name("v")
        src.line(f"for {k}, {x} in {it}:")
        src.indent()
        g.loops += 1
        if conflict:
            by_key(k, x)
        else:
            _emit_computed(g, node, raw, k, x, lv, ptr)
        g.loops -= 1
        src.dedent()
    g.depth -= 1


def generate(step: Shift, spec: dict[str, Any], *, own: bool, trace: bool = False) -> Any:
    """The shift as one Python function `(data, ctx, trace) -> output`.

    `own`: the function reads `data` without changing it and copies what it writes (the first
    step of a chain, so the chain needs no up-front copy of the input).
    """
    src = Source()
    g = _Gen(src, own, trace)
    src.line("def shift(inp, ctx=None, trace=None):")
    src.indent()
    src.line("out = {}")
    if own:
        src.line("memo = {}")
    _collect(step._root, g.patterns)
    g.counts = _uses_hash(step._root)
    declare = len(src.lines)
    _emit_composite(g, step._root, spec, "'root'", (), "inp", [Level("'root'", (), "inp")], [])
    src.lines[declare:declare] = [f"    {name} = None" for name in g.caches.values()]
    src.line("return out.get('root')")
    return src.build("shift", _NAMESPACE)
