"""Flow mappings: how a registration becomes the fields (or the JSON body) a destination receives.

A mapping is part of a flow definition (YAML), so its models are strict. It compiles once
per definition into a `CompiledMapping`, a plain callable. The language (docs/transforms.md):

- each destination field takes a *source*: a JSONPath `path` over the registration's scope
  (`$.record...`, `$.event...`, `$.answers.<code>`, `$.properties.<code>`, `$.tags...`,
  `$.status`, `$.attendee_type`), a constant `value`, a `concat` or `first_non_empty` of
  other sources, then `transforms`, then a `default` for a missing/null/empty result;
- `branches`: a different mapping when a tag rule holds (the status or attendee type
  carries tag X): the first branch whose `when` holds overlays its fields on the base;
- Advanced Webhook: `body.template` is a pasted sample JSON body, `body.bind` binds its
  leaves to sources; unbound leaves stay as in the sample.

Speed: each variant (the base and base+branch) is generated as one Python function with
the simple paths' walks inlined, because a call per field and jsonpath-ng's `find` are too
slow for the target (>= 50,000 records/s for ~30 fields). Only key strings (through repr)
enter the generated source; every value is passed in by name.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, JsonValue, ValidationError, model_validator

from eventsync.registration import SCOPE_ROOTS, Registration
from eventsync.strict import Strict
from eventsync.tags import CompiledRule, TagRule, compile_rule
from eventsync.transforms.errors import TransformError
from eventsync.transforms.paths import MISSING, CompiledPath, compile_path
from eventsync.transforms.values import ValueProblem, ValueTransform, compile_transform

__all__ = [
    "CompiledMapping",
    "FieldSource",
    "FlowMapping",
    "MappingBranch",
    "WebhookBody",
    "compile_mapping",
]

_KINDS = ("path", "value", "concat", "first_non_empty")


def _path_shorthand(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class FieldSource(Strict):
    """Where one field's value comes from. Exactly one of `path`, `value`, `concat`,
    `first_non_empty` (or only a `default`, which is then a constant).

    A bare string anywhere a source is expected is short for `{path: <string>}`.
    """

    path: str | None = Field(default=None, description="JSONPath over the scope, e.g. $.record.profile.email")
    value: JsonValue = Field(default=None, description="a constant")
    concat: list[SourceRef] | None = Field(default=None, description="sources joined as text")
    separator: str = Field(default="", description="between concat parts")
    first_non_empty: list[SourceRef] | None = Field(default=None, description="the first source with a value")
    transforms: list[ValueTransform] = Field(default_factory=list)
    default: JsonValue = Field(default=None, description="when the result is missing, null or empty")

    @model_validator(mode="after")
    def _one_kind(self) -> FieldSource:
        kinds = [k for k in _KINDS if k in self.model_fields_set]
        if len(kinds) > 1:
            raise ValueError(f"give one of path, value, concat, first_non_empty, not {' and '.join(kinds)}")
        if not kinds and "default" not in self.model_fields_set:
            raise ValueError("give a path, value, concat, first_non_empty or default")
        if "separator" in self.model_fields_set and "concat" not in self.model_fields_set:
            raise ValueError("separator goes with concat")
        for k in ("concat", "first_non_empty"):
            if k in kinds and not getattr(self, k):
                raise ValueError(f"{k} needs at least one source")
        return self


SourceRef = Annotated[FieldSource, BeforeValidator(_path_shorthand)]
FieldSource.model_rebuild()


class WebhookBody(Strict):
    """A nested JSON body: the pasted sample `template`, with leaves bound to sources.

    `bind` keys address nodes of the template: `contact.email`, `items[0].sku`, or a JSON
    Pointer (`/contact/e.mail`) for keys that contain dots or brackets.
    """

    template: JsonValue
    bind: dict[str, SourceRef] = Field(default_factory=dict)


class MappingBranch(Strict):
    """When `when` holds, `fields` (or `bind`, for a body) replace or add to the base mapping,
    and the base fields named in `omit` are not sent."""

    when: TagRule
    fields: dict[str, SourceRef] = Field(default_factory=dict)
    bind: dict[str, SourceRef] = Field(default_factory=dict)
    omit: list[str] = Field(default_factory=list)


class FlowMapping(Strict):
    """A destination mapping: flat `fields`, or a nested `body` (Advanced Webhook), plus branches."""

    fields: dict[str, SourceRef] | None = None
    body: WebhookBody | None = None
    branches: list[MappingBranch] = Field(default_factory=list)

    @model_validator(mode="after")
    def _shape(self) -> FlowMapping:
        if (self.fields is None) == (self.body is None):
            raise ValueError("a mapping has either `fields` (a flat record) or `body` (a nested JSON body)")
        for i, branch in enumerate(self.branches):
            if self.fields is not None and branch.bind:
                raise ValueError(f"branches[{i}]: `bind` is for a body mapping; use `fields`")
            if self.body is not None and (branch.fields or branch.omit):
                raise ValueError(f"branches[{i}]: `fields`/`omit` are for a flat mapping; use `bind`")
            unknown = [name for name in branch.omit if self.fields is not None and name not in self.fields]
            if unknown:
                raise ValueError(f"branches[{i}].omit names fields the base mapping does not have: {unknown}")
        return self


# --------------------------------------------------------------------------- compiling


def _describe(src: FieldSource) -> str:
    if src.path is not None:
        core = src.path
    elif "value" in src.model_fields_set:
        core = f"value {src.value!r}"
    elif src.concat is not None:
        core = "concat(" + ", ".join(_describe(p) for p in src.concat) + ")"
    elif src.first_non_empty is not None:
        core = "first_non_empty(" + ", ".join(_describe(p) for p in src.first_non_empty) + ")"
    else:
        core = f"default {src.default!r}"
    return core if len(core) <= 200 else core[:197] + "..."


def _copy(value: Any) -> Any:
    # Constants are handed out fresh each time: a destination adapter may mutate what it gets.
    if value.__class__ is dict:
        return {k: _copy(v) for k, v in value.items()}
    if value.__class__ is list:
        return [_copy(v) for v in value]
    return value


def _is_empty(v: Any) -> bool:
    return v is MISSING or v is None or v == "" or v == []


def _as_text(v: Any) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class _Site:
    """One place a source is used, for errors: the field (or body node) and the expression."""

    __slots__ = ("label", "expression")

    def __init__(self, label: str, expression: str) -> None:
        self.label = label
        self.expression = expression


class _Compiler:
    def __init__(self, flow: str) -> None:
        self.flow = flow
        self.ns: dict[str, Any] = {"M": MISSING, "_copy": _copy}
        self.counter = itertools.count()
        self.roots: set[str] | None = set()
        self._paths: dict[str, CompiledPath] = {}

    # ---- names in the generated function's namespace

    def name(self, value: Any, prefix: str) -> str:
        key = f"{prefix}{next(self.counter)}"
        self.ns[key] = value
        return key

    def const(self, value: Any) -> str:
        key = self.name(value, "K")
        return f"_copy({key})" if isinstance(value, dict | list) else key

    def path(self, expression: str, site: _Site) -> CompiledPath:
        if expression not in self._paths:
            try:
                self._paths[expression] = compile_path(expression)
            except ValueError as exc:
                raise TransformError(
                    f"flow {self.flow!r}, field {site.label!r}: expression {expression!r} is not valid "
                    f"JSONPath: {exc}",
                    flow=self.flow,
                    field=site.label,
                    expression=expression,
                ) from exc
        compiled = self._paths[expression]
        if self.roots is not None:
            if compiled.steps and isinstance(compiled.steps[0], str) and compiled.steps[0] in SCOPE_ROOTS:
                self.roots.add(compiled.steps[0])
            elif compiled.steps is None or not compiled.steps:
                self.roots = None  # a general or whole-scope path may read anything
        return compiled

    # ---- closures for nested sources (parts of concat / first_non_empty)

    def closure(self, src: FieldSource, site: _Site) -> Callable[[Any], Any]:
        if src.path is not None:
            getter = self.path(src.path, site).find
        elif "value" in src.model_fields_set:
            constant = src.value

            def getter(_: Any) -> Any:
                return _copy(constant)
        elif src.concat is not None:
            parts = [self.closure(p, site) for p in src.concat]
            sep = src.separator

            def getter(scope: Any) -> Any:
                texts: list[str] = []
                for part in parts:
                    v = part(scope)
                    if v is MISSING or v is None:
                        continue
                    if isinstance(v, list):
                        texts.extend(_as_text(x) for x in v if x is not None and x != "")
                    elif isinstance(v, dict):
                        raise ValueProblem("concat cannot join an object")
                    elif v != "":
                        texts.append(_as_text(v))
                return sep.join(texts)
        elif src.first_non_empty is not None:
            options = [self.closure(p, site) for p in src.first_non_empty]

            def getter(scope: Any) -> Any:
                for option in options:
                    v = option(scope)
                    if not _is_empty(v):
                        return v
                return MISSING
        else:

            def getter(_: Any) -> Any:
                return MISSING

        fns = self.transforms(src, site)
        has_default = "default" in src.model_fields_set
        default = src.default

        if not fns and not has_default:
            return getter

        def full(scope: Any) -> Any:
            v = getter(scope)
            if v is not MISSING:
                for fn in fns:
                    v = fn(v)
            if has_default and _is_empty(v):
                return _copy(default)
            return v

        return full

    def transforms(self, src: FieldSource, site: _Site) -> list[Callable[[Any], Any]]:
        try:
            return [compile_transform(t) for t in src.transforms]
        except (TypeError, ValueError) as exc:  # pragma: no cover - models are validated first
            raise TransformError(
                f"flow {self.flow!r}, field {site.label!r}: {exc}", flow=self.flow, field=site.label
            ) from exc

    # ---- generated code for one top-level source: leaves its value in `v`

    def emit(
        self, src: FieldSource, site: _Site, out: list[str], pad: str, prefixes: dict[tuple[Any, ...], str]
    ) -> None:
        """`prefixes`: path prefixes already walked in this function, by local name; many fields
        share `$.record.profile`, and walking it once per record instead of per field matters."""
        if src.path is not None and (compiled := self.path(src.path, site)).steps is not None:
            steps = compiled.steps
            start = max((n for n in range(len(steps)) if steps[:n] in prefixes), default=0)
            out.append(f"{pad}v = {prefixes[steps[:start]] if start else 'S'}")
            for n in range(start, len(steps)):
                step = steps[n]
                if isinstance(step, str):
                    out.append(f"{pad}v = v.get({step!r}, M) if v.__class__ is dict else M")
                else:
                    out.append(f"{pad}v = v[{step}] if v.__class__ is list and len(v) > {step} else M")
                if n + 1 < len(steps):
                    local = f"P{len(prefixes)}"
                    prefixes[steps[: n + 1]] = local
                    out.append(f"{pad}{local} = v")
            for fn in self.transforms(src, site):
                out.append(f"{pad}if v is not M: v = {self.name(fn, 'T')}(v)")
        elif "value" in src.model_fields_set and not src.transforms:
            out.append(f"{pad}v = {self.const(src.value)}")
        else:
            # General paths, constants with transforms, concat, first_non_empty: one closure call.
            out.append(f"{pad}v = {self.name(self.closure(src, site), 'G')}(S)")
            if "default" in src.model_fields_set:
                return  # the closure applied it
        if "default" in src.model_fields_set:
            out.append(f'{pad}if v is M or v is None or v == "" or v == []: v = {self.const(src.default)}')

    def function(self, lines: list[str], sites: list[_Site], fname: str) -> Callable[[Any], Any]:
        flow = self.flow

        def fail(at: int, exc: Exception) -> TransformError:
            site = sites[at]
            detail = str(exc) if isinstance(exc, ValueProblem) else f"{type(exc).__name__}: {exc}"
            return TransformError(
                f"flow {flow!r}, field {site.label!r} ({site.expression}): {detail}",
                flow=flow,
                field=site.label,
                expression=site.expression,
            )

        self.ns["_fail"] = fail
        body = "\n".join(lines)
        source = f"def {fname}(S):\n    _at = 0\n    try:\n{body}\n    except Exception as exc:\n        raise _fail(_at, exc) from exc\n"
        code = compile(source, f"<mapping {flow}:{fname}>", "exec")
        scope: dict[str, Any] = {}
        exec(code, dict(self.ns), scope)  # noqa: S102 - our own generated source, values passed by name
        fn: Callable[[Any], Any] = scope[fname]
        fn.__doc__ = source  # kept for debugging: `print(mapping.variants[0].__doc__)`
        return fn

    # ---- nested body

    def body_function(
        self, template: Any, binds: Mapping[tuple[str | int, ...], tuple[str, FieldSource]], fname: str
    ) -> Callable[[Any], Any]:
        lines: list[str] = []
        sites: list[_Site] = []
        pad = "        "
        bound_prefixes = {key[:i] for key in binds for i in range(len(key))}
        var_ids = itertools.count()
        prefixes: dict[tuple[Any, ...], str] = {}

        def value_into(src_label: str, src: FieldSource) -> None:
            site = _Site(src_label, _describe(src))
            lines.append(f"{pad}_at = {len(sites)}")
            sites.append(site)
            self.emit(src, site, lines, pad, prefixes)

        def build(node: Any, at: tuple[str | int, ...]) -> str:
            var = f"n{next(var_ids)}"
            if isinstance(node, dict):
                lines.append(f"{pad}{var} = {{}}")
                for key, child in node.items():
                    here = (*at, key)
                    if here in binds:
                        value_into(*binds[here])
                        lines.append(f"{pad}if v is not M: {var}[{key!r}] = v")
                    elif here in bound_prefixes:
                        lines.append(f"{pad}{var}[{key!r}] = {build(child, here)}")
                    else:
                        lines.append(f"{pad}{var}[{key!r}] = {self.const(child)}")
            else:  # a list: positions are kept, a missing bound value is null
                lines.append(f"{pad}{var} = []")
                for index, child in enumerate(node):
                    here = (*at, index)
                    if here in binds:
                        value_into(*binds[here])
                        lines.append(f"{pad}{var}.append(None if v is M else v)")
                    elif here in bound_prefixes:
                        lines.append(f"{pad}{var}.append({build(child, here)})")
                    else:
                        lines.append(f"{pad}{var}.append({self.const(child)})")
            return var

        if binds:
            lines.append(f"{pad}return {build(template, ())}")
        else:
            lines.append(f"{pad}return {self.const(template)}")
        return self.function(lines, sites, fname)


def _parse_bind_key(key: str) -> tuple[str | int, ...]:
    if key.startswith("/"):
        return tuple(p.replace("~1", "/").replace("~0", "~") for p in key[1:].split("/"))
    out: list[str | int] = []
    for part in key.split("."):
        name, _, rest = part.partition("[")
        if name:
            out.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            if not index.isdigit():
                raise ValueError("indexes are written [0], [1], ...")
            out.append(int(index))
            rest = rest.removeprefix("[")
        if not name and not out:
            raise ValueError("empty name")
    return tuple(out)


def _resolve_bind(template: Any, key: str, flow: str, label: str) -> tuple[str | int, ...]:
    """Turn a bind key into the exact path of an existing template node (JSON Pointer steps
    are strings; a string step into a list is read as its index)."""

    def bad(why: str) -> TransformError:
        return TransformError(f"flow {flow!r}, {label}: {why}", flow=flow, field=label, expression=key)

    try:
        raw = _parse_bind_key(key)
    except ValueError as exc:
        raise bad(f"cannot read bind key {key!r}: {exc}") from exc
    if not raw:
        raise bad("the body's root cannot be bound; bind its fields")
    node: Any = template
    resolved: list[str | int] = []
    for step in raw:
        if isinstance(node, dict) and str(step) in node:
            resolved.append(str(step))
            node = node[str(step)]
        elif isinstance(node, list) and str(step).isdigit() and int(step) < len(node):
            resolved.append(int(step))
            node = node[int(step)]
        else:
            raise bad(f"{key!r} is not a node of the body template")
    return tuple(resolved)


class CompiledMapping:
    """A mapping ready to run on many registrations. Call it: `mapping(registration)`."""

    __slots__ = ("flow", "variants", "_rules", "_roots")

    def __init__(
        self,
        flow: str,
        variants: list[Callable[[Any], Any]],
        rules: list[CompiledRule],
        roots: frozenset[str] | None,
    ) -> None:
        self.flow = flow
        self.variants = tuple(variants)
        self._rules = tuple(rules)
        self._roots = roots

    def branch_for(self, current: Registration, previous: Registration | None = None) -> int | None:
        """Index of the first branch whose rule holds, None for the base mapping."""
        for i, rule in enumerate(self._rules):
            if rule(current, previous):
                return i
        return None

    def __call__(self, current: Registration, previous: Registration | None = None) -> Any:
        variant = 0
        for i, rule in enumerate(self._rules):
            if rule(current, previous):
                variant = i + 1
                break
        return self.variants[variant](current.scope(self._roots))

    def apply_scope(self, scope: Any, branch: int | None = None) -> Any:
        """Run on a ready scope document (any JSON), with the base mapping or a given branch."""
        return self.variants[0 if branch is None else branch + 1](scope)


def compile_mapping(mapping: FlowMapping | Mapping[str, Any], *, flow: str) -> CompiledMapping:
    """Compile a mapping once per flow definition. Errors name the flow, field and expression."""
    if not isinstance(mapping, FlowMapping):
        try:
            mapping = FlowMapping.model_validate(dict(mapping))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise TransformError(
                f"flow {flow!r}: invalid mapping at {where or '(root)'}: {first['msg']}"
                + (f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""),
                flow=flow,
                field=where,
            ) from exc
    c = _Compiler(flow)
    variants: list[Callable[[Any], Any]] = []
    if mapping.fields is not None:
        variants.append(_fields_with_labels(c, mapping.fields, {}, "base"))
        for i, branch in enumerate(mapping.branches):
            merged: dict[str, FieldSource] = {}
            labels: dict[str, str] = {}
            for name, src in mapping.fields.items():
                if name not in branch.omit:
                    merged[name] = src
            for name, src in branch.fields.items():
                merged[name] = src
                labels[name] = f"branches[{i}].fields."
            # Keep labels precise: a field from the branch is named as such in errors.
            fn = _fields_with_labels(c, merged, labels, f"branch{i}")
            variants.append(fn)
    else:
        assert mapping.body is not None
        template = mapping.body.template
        base_binds = {
            _resolve_bind(template, k, flow, f"body.bind[{k!r}]"): (f"body.{k}", src)
            for k, src in mapping.body.bind.items()
        }
        _check_overlap(base_binds, flow)
        variants.append(c.body_function(template, base_binds, "base"))
        for i, branch in enumerate(mapping.branches):
            binds = dict(base_binds)
            for k, src in branch.bind.items():
                binds[_resolve_bind(template, k, flow, f"branches[{i}].bind[{k!r}]")] = (
                    f"branches[{i}].bind.{k}",
                    src,
                )
            _check_overlap(binds, flow)
            variants.append(c.body_function(template, binds, f"branch{i}"))
    rules = [compile_rule(b.when) for b in mapping.branches]
    roots = frozenset(c.roots) if c.roots is not None else None
    return CompiledMapping(flow, variants, rules, roots)


def _fields_with_labels(
    c: _Compiler, fields: Mapping[str, FieldSource], labels: Mapping[str, str], fname: str
) -> Callable[[Any], Any]:
    lines = ["        out = {}"]
    sites: list[_Site] = []
    prefixes: dict[tuple[Any, ...], str] = {}
    for name, src in fields.items():
        site = _Site(f"{labels.get(name, '')}{name}", _describe(src))
        lines.append(f"        _at = {len(sites)}")
        sites.append(site)
        c.emit(src, site, lines, "        ", prefixes)
        lines.append(f"        if v is not M: out[{name!r}] = v")
    lines.append("        return out")
    return c.function(lines, sites, fname)


def _check_overlap(binds: Mapping[tuple[str | int, ...], tuple[str, FieldSource]], flow: str) -> None:
    keys = sorted(binds, key=len)
    for i, short in enumerate(keys):
        for long in keys[i + 1 :]:
            if long[: len(short)] == short:
                label = binds[long][0]
                raise TransformError(
                    f"flow {flow!r}, {label}: bound inside {binds[short][0]!r}, which is bound itself",
                    flow=flow,
                    field=label,
                )
