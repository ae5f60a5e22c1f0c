"""modify-overwrite-beta / modify-default-beta / modify-define-beta, generated.

Each spec node becomes inline code over the data it changes in place; each leaf calls its
function (jolt-py's own function table plus custom ones, so every function behaves exactly as
in jolt-py) with arguments resolved at generation time: literals are constants, `@(n,path)`
reads a local variable's subtree, `^path` reads the context.
"""

from __future__ import annotations

from typing import Any

from pyjolt._common.paths import (
    ArrayPathElement,
    LiteralPathElement,
    StarAllPathElement,
    StarDoublePathElement,
    StarRegexPathElement,
    StarSinglePathElement,
    build_matchable_path_element,
)
from pyjolt._common.spec import ExecutionStrategy
from pyjolt._common.util import MISSING, java_str, try_parse_int
from pyjolt.transforms.modify import (
    _DEFAULT,
    _DEFINE,
    _OVERWRITE,
    _CompositeSpec,
    _Evaluator,
    _LeafSpec,
    _list_applicable,
    _map_applicable,
    _Modify,
)

from eventsync.transforms.joltc import shift as sh
from eventsync.transforms.joltc.functions import INLINE_TEXT, STOCK_FUNCTIONS, TRIM, fast_version
from eventsync.transforms.joltc.source import Source, Unsupported, deep_copy

Level = sh.Level
_MAX_DEPTH = 40


def _canon(raw_key: str) -> str:
    key = raw_key
    if key and key[0] in (_OVERWRITE, _DEFAULT, _DEFINE):
        key = key[1:]
    if key.endswith("?") and not key.endswith("\\?"):
        key = key[:-1]
    return build_matchable_path_element(key).canonical_form


def _raw_keys(raw: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for raw_lhs in raw:
        for key in str(raw_lhs).split("|"):
            out[_canon(key)] = str(raw_lhs)
    return out


class _Gen:
    def __init__(self) -> None:
        self.src = Source()
        self.shift = sh._Gen(self.src, own=False, trace=False)
        self.uses_context = False
        self.depth = 0

    # --- values -------------------------------------------------------------

    def arg(self, arg: Any, levels: list[Level]) -> str:
        if arg.kind == "literal":
            v = arg.value
            if v is None or isinstance(v, (bool, int, str)):
                return repr(v)
            return self.src.const(v, "A")
        if arg.kind == "self":
            return sh._object_eval(self.shift, arg.value, levels)
        self.uses_context = True
        reader = arg.value
        kinds = sh._kinds(reader)
        keys = [
            sh._key_expr(self.shift, e, k, levels)[0] for e, k in zip(reader.elements, kinds, strict=True)
        ]
        return f"_read(croot, ({', '.join(keys)},), {self.src.const(tuple(kinds), 'K')})"

    def evaluate(self, ev: _Evaluator, input_value: str, levels: list[Level], result: str) -> None:
        """`result = ` the evaluator's value, or _M; any exception is "no value", as in jolt-py."""
        src = self.src
        src.line("try:")
        src.indent()
        fn = None if ev.function is None else src.const(fast_version(ev.function), "F")
        inline = None if ev.function is None else INLINE_TEXT.get(ev.function)
        args = [self.arg(a, levels) for a in ev.args]
        if fn is None:
            src.line(f"{result} = {args[0]}")
        elif len(args) == 1 or not args:
            a = input_value
            if args:
                a = src.name("a")
                src.line(f"{a} = {args[0]}")
            call = f"{fn}() if {a} is _M else {fn}({a})"
            if inline is not None:
                # one text argument: the function's body in place (anything else: the call)
                call = f"{inline.format(a)} if {a}.__class__ is str else ({call})"
            src.line(f"{result} = {call}")
        else:
            names = []
            texts: list[str | None] | None = []
            for arg, expr in zip(ev.args, args, strict=True):
                if arg.kind == "literal":
                    names.append(expr)
                    if not isinstance(arg.value, str):
                        texts = None
                    elif texts is not None:
                        texts.append(None)
                    continue
                a = src.name("a")
                src.line(f"{a} = {expr}")
                names.append(f"(None if {a} is _M else {a})")
                if texts is not None:
                    texts.append(a)
            call = f"{fn}({', '.join(names)})"
            if ev.function is STOCK_FUNCTIONS["concat"] and texts:
                guard = " and ".join(f"{a}.__class__ is str" for a in texts if a is not None) or "True"
                joined = " + ".join(n if t is None else t for n, t in zip(names, texts, strict=True))
                call = f"({joined}) if {guard} else {call}"
            src.line(f"{result} = {call}")
        src.dedent()
        src.line("except Exception:")
        src.line(f"    {result} = _M")

    # --- spec nodes ---------------------------------------------------------

    def leaf(
        self,
        leaf: _LeafSpec,
        key: str,
        groups: tuple[str, ...],
        matched_orig: str | None,
        val: str,
        parent: str,
        parent_kind: str,
        levels: list[Level],
    ) -> None:
        """Leaf apply_element: `parent` is a dict/list (`parent_kind`) or a scalar ('scalar')."""
        src = self.src
        tree = "None" if val == "_M" else f"(None if {val} is _M else {val})" if val != "None" else "None"
        lv = [*levels, Level(key, groups, tree, matched_orig or "None")]
        r = src.name("r")
        for i, ev in enumerate(leaf.evaluators):
            if i:
                src.line(f"if {r} is _M:")
                src.indent()
            self.evaluate(ev, val, lv, r)
        for _ in range(len(leaf.evaluators) - 1):
            src.dedent()
        if parent_kind == "scalar":
            return  # jolt-py leaves the data alone when the spec is deeper than the data
        mode = leaf.mode
        src.line(f"if {r} is not _M:")
        src.indent()
        value = f"({r} if {r}.__class__ in _SC else _dc({r}))"
        if parent_kind == "dict":
            if mode == _OVERWRITE:
                src.line(f"{parent}[{key}] = {value}")
            elif mode == _DEFAULT:
                src.line(f"if {parent}.get({key}) is None:")
                src.line(f"    {parent}[{key}] = {value}")
            else:
                src.line(f"if {key} not in {parent}:")
                src.line(f"    {parent}[{key}] = {value}")
        elif matched_orig is not None:
            idx = src.name("ix")
            src.line(f"{idx} = int({key})")
            src.line(f"if _lok({mode!r}, {parent}, {idx}, {matched_orig}):")
            src.line(f"    while len({parent}) <= {idx}:")
            src.line(f"        {parent}.append(None)")
            src.line(f"    {parent}[{idx}] = {value}")
        src.line("pass")
        src.dedent()

    def node(
        self,
        spec: Any,
        raw: Any,
        key: str,
        groups: tuple[str, ...],
        matched_orig: str | None,
        val: str,
        parent: str,
        parent_kind: str,
        levels: list[Level],
    ) -> None:
        """_Spec.apply after the key matched: check `?` then apply the element."""
        src = self.src
        opened = False
        if spec.check_value and val != "None":
            if val == "_M":
                return
            src.line(f"if {val} is not _M:")
            src.indent()
            opened = True
        elif spec.check_value:
            return
        if isinstance(spec, _CompositeSpec):
            self.composite(spec, raw, key, groups, matched_orig, val, parent, parent_kind, levels)
        else:
            self.leaf(spec, key, groups, matched_orig, val, parent, parent_kind, levels)
        if opened:
            src.line("pass")
            src.dedent()

    def composite(
        self,
        spec: _CompositeSpec,
        raw: dict[str, Any],
        key: str,
        groups: tuple[str, ...],
        matched_orig: str | None,
        val: str,
        parent: str,
        parent_kind: str,
        levels: list[Level],
    ) -> None:
        src = self.src
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise Unsupported(f"a spec nested deeper than {_MAX_DEPTH}")
        kind = spec.data_type.kind
        v = src.name("c")
        src.line(f"{v} = {'None' if val in ('_M', 'None') else f'(None if {val} is _M else {val})'}")
        compat = {
            "list": f"{v} is None or isinstance({v}, list)",
            "map": f"{v} is None or isinstance({v}, dict)",
            "runtime": f"{v} is not None",
        }[kind]
        src.line(f"if {compat}:")
        src.indent()
        if kind != "runtime":
            new = "[]" if kind == "list" else "{}"
            mode = spec.mode
            src.line(f"if {v} is None:")
            src.indent()
            if parent_kind == "dict":
                src.line(f"if _mok({mode!r}, {parent}, {key}):")
                src.line(f"    {v} = {parent}[{key}] = {new}")
            elif parent_kind == "list":
                ix = src.name("ix")
                src.line(f"{ix} = _tpi({key})")
                src.line(
                    f"if {ix} is not None and {ix} < len({parent}) and "
                    f"_lok({mode!r}, {parent}, {ix}, {levels[-1].orig}):"
                )
                src.line(f"    {v} = {parent}[{ix}] = {new}")
            src.line("pass")
            src.dedent()
        orig = src.name("o")
        if kind == "list":
            src.line(f"if {v} is not None:")
            src.line(f"    {orig} = len({v})")
            src.line(f"    while len({v}) <= {spec.data_type.max_index}:")
            src.line(f"        {v}.append(None)")
        else:
            src.line(f"{orig} = len({v}) if isinstance({v}, list) else None")
        lv = [*levels, Level(key, groups, v, orig)]
        self.process(spec, raw, v, orig, lv)
        src.line("pass")
        src.dedent()
        self.depth -= 1

    def computed(
        self,
        spec: _CompositeSpec,
        raw: dict[str, Any],
        k: str,
        x: str,
        parent: str,
        parent_kind: str,
        parent_orig: str,
        levels: list[Level],
    ) -> None:
        src = self.src
        canon = _raw_keys(raw)
        first = True
        for child in spec.computed_children:
            pe = child.path_element
            raw_key = canon[pe.canonical_form]
            pre: list[str] = []
            groups: tuple[str, ...] = ()
            matched_orig: str | None = None
            if isinstance(pe, StarAllPathElement):
                cond = "True"
                # an ArrayMatchedElement when the parent is an array
                matched_orig = parent_orig if parent_kind == "list" else None
            elif isinstance(pe, StarSinglePathElement):
                lp, ls = len(pe.prefix), len(pe.suffix)
                cond = (
                    f"{k}.startswith({pe.prefix!r}) and {k}.endswith({pe.suffix!r}) and len({k}) > {lp + ls}"
                )
                grp = src.name("g")
                pre = [f"{grp} = {k}[{lp}:len({k}) - {ls}]"]
                groups = (grp,)
            elif isinstance(pe, (StarDoublePathElement, StarRegexPathElement)):
                m = src.name("m")
                cond = f"({m} := {src.const(pe, 'P')}.match({k}, None)) is not None"
                n = len(pe.raw_key.split("*")) - 1
                groups = tuple(f"{m}.sub_keys[{i}]" for i in range(1, n + 1))
            else:
                raise Unsupported(f"a computed modify key {pe.raw_key!r}")
            src.line(f"{'if' if first else 'elif'} {cond}:")
            first = False
            src.indent()
            for line in pre:
                src.line(line)
            self.node(child, raw[raw_key], k, groups, matched_orig, x, parent, parent_kind, levels)
            src.line("pass")
            src.dedent()
            if cond == "True":
                break

    def literal(
        self,
        child: Any,
        raw: Any,
        lit: str,
        x: str,
        parent: str,
        parent_kind: str,
        parent_orig: str,
        levels: list[Level],
    ) -> None:
        """A literal child applied with key `lit` (an expression)."""
        pe = child.path_element
        if isinstance(pe, ArrayPathElement):
            if parent_kind != "list":
                return  # an index key only matches inside an array
            self.node(child, raw, lit, (), parent_orig, x, parent, parent_kind, levels)
        elif isinstance(pe, LiteralPathElement):
            self.node(child, raw, lit, (), None, x, parent, parent_kind, levels)
        else:
            raise Unsupported(f"a literal modify key {pe.raw_key!r}")

    def process(
        self, spec: _CompositeSpec, raw: dict[str, Any], v: str, orig: str, levels: list[Level]
    ) -> None:
        src = self.src
        strategy = spec.strategy
        canon = _raw_keys(raw)
        literals = [
            (key, child, canon[child.path_element.canonical_form])
            for key, child in spec.literal_children.items()
        ]
        all_lit = strategy in (ExecutionStrategy.ALL_LITERALS, ExecutionStrategy.ALL_LITERALS_WITH_COMPUTED)
        computed = strategy in (ExecutionStrategy.COMPUTED, ExecutionStrategy.ALL_LITERALS_WITH_COMPUTED)
        conflict = strategy is ExecutionStrategy.CONFLICT
        if not (all_lit or computed or conflict):
            raise Unsupported(f"modify strategy {strategy}")

        def by_key(k: str, x: str, kind: str) -> None:
            for i, (lit, child, raw_key) in enumerate(literals):
                src.line(f"{'if' if i == 0 else 'elif'} {k} == {lit!r}:")
                src.indent()
                self.literal(child, raw[raw_key], k, x, v, kind, orig, levels)
                src.line("pass")
                src.dedent()
            if literals:
                src.line("else:")
                src.indent()
            self.computed(spec, raw, k, x, v, kind, orig, levels)
            src.line("pass")
            if literals:
                src.dedent()

        src.line(f"if isinstance({v}, dict):")
        src.indent()
        src.known_dicts.add(v)
        if all_lit:
            for lit, child, raw_key in literals:
                x = src.name("x")
                src.line(f"{x} = {v}.get({lit!r}, _M)")
                self.literal(child, raw[raw_key], repr(lit), x, v, "dict", orig, levels)
        if computed or conflict:
            k, x = src.name("k"), src.name("x")
            src.line(f"for {k}, {x} in list({v}.items()):")
            src.indent()
            if conflict:
                by_key(k, x, "dict")
            else:
                self.computed(spec, raw, k, x, v, "dict", orig, levels)
            src.line("pass")
            src.dedent()
        src.line("pass")
        src.known_dicts.discard(v)
        src.dedent()

        src.line(f"elif isinstance({v}, list):")
        src.indent()
        if all_lit:
            for lit, child, raw_key in literals:
                idx = try_parse_int(lit)
                if idx is None or idx < 0:
                    # a key that is no index, in an array: nothing is written or created there
                    continue
                x = src.name("x")
                src.line(f"{x} = _item({v}, {idx}, {orig}) if {idx} < len({v}) else _M")
                self.literal(child, raw[raw_key], repr(lit), x, v, "list", orig, levels)
        if computed or conflict:
            i, k, x = src.name("i"), src.name("k"), src.name("x")
            src.line(f"for {i} in range(len({v})):")
            src.indent()
            src.line(f"{x} = _item({v}, {i}, {orig})")
            src.line(f"{k} = str({i})")
            if conflict:
                by_key(k, x, "list")
            else:
                self.computed(spec, raw, k, x, v, "list", orig, levels)
            src.line("pass")
            src.dedent()
        src.line("pass")
        src.dedent()

        # A scalar: jolt-py matches its text against the keys, but with a text as the parent
        # nothing can be written or created (functions are evaluated and their value dropped),
        # so there is no code to generate.


def _item(items: list[Any], index: int, orig: int | None) -> Any:
    value = items[index]
    if value is None and orig is not None and index >= orig:
        return MISSING
    return value


def generate(step: _Modify, spec: dict[str, Any]) -> Any:
    """The modify as one Python function `(data, ctx) -> data`, changing `data` in place."""
    g = _Gen()
    src = g.src
    src.indent()
    g.composite(step._root, spec, "'root'", (), None, "data", "None", "scalar", [Level("'root'", (), "data")])
    body = src.lines
    head = ["def modify(data, ctx=None, trace=None):"]
    if g.uses_context:
        head.append("    croot = {'root': ctx}")
    src.lines = [*head, *body, "    return data"]
    return src.build(
        "modify",
        {
            **sh._NAMESPACE,
            "_dc": deep_copy,
            "_mok": _map_applicable,
            "_lok": _list_applicable,
            "_tpi": try_parse_int,
            "_item": _item,
            "_jstr": java_str,
            "_TRIM": TRIM,
        },
    )
