"""Load definitions from a YAML file or a folder of them, reporting *every* problem at once
with its file, line, path in the document and a hint.

ruamel.yaml keeps the line of every key and item, so a pydantic error location
(``('connections', 2, 'auth', 'password')``) maps back to where the user wrote it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from eventsync.definitions.document import Definitions
from eventsync.secrets import check_secret
from eventsync.transforms import TransformError, jolt

SECTIONS = ("connections", "flows", "fetches", "touchpoint")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    path: str
    message: str
    hint: str | None = None
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.severity}: {self.path or '(document)'}: {self.message}"
        return text + (f"\n    hint: {self.hint}" if self.hint else "")


@dataclass
class LoadResult:
    definitions: Definitions | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


class DefinitionsError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class _Origin:
    file: str
    node: Any  # the item's CommentedMap/Seq in that file
    line: int | None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    return [path]


def _walk(node: Any, loc: tuple[Any, ...], default: int | None) -> tuple[int | None, tuple[Any, ...]]:
    """1-based line of the deepest part of ``loc`` found under ``node``, and ``loc`` without the
    parts pydantic adds that the user never wrote (union tags such as 'oauth2_client_credentials')."""
    line = default
    kept: list[Any] = []
    for i, part in enumerate(loc):
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        elif i < len(loc) - 1:
            continue
        kept.append(part)
    return line, tuple(kept)


def line_of(node: Any, loc: tuple[Any, ...], default: int | None = None) -> int | None:
    """1-based line of the deepest part of ``loc`` found in a ruamel tree (``default`` if none)."""
    return _walk(node, loc, default)[0]


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that holds the last part of ``loc`` (for 'did you mean' hints)."""
    model: Any = Definitions
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        fields = getattr(model, "model_fields", {})
        if part in fields:
            model = _inner_model(fields[part].annotation)
        else:
            # A discriminated-union tag such as 'oauth2_client_credentials'
            model = _union_member(model, part)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    import typing

    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for a in args:
        found = _inner_model(a)
        if found is not None:
            return found if not typing.get_args(a) or len(args) == 1 else annotation
    return None


def _union_member(annotation: Any, tag: str) -> Any:
    import typing

    for a in typing.get_args(annotation) or ():
        if isinstance(a, type) and issubclass(a, BaseModel):
            kind = a.model_fields.get("kind")
            if kind is not None and kind.default == tag:
                return a
        found = _union_member(a, tag)
        if found is not None:
            return found
    return None


def _hint(err: dict[str, Any]) -> str | None:
    kind = err["type"]
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        model = _model_at(loc)
        if model is not None:
            names = list(model.model_fields)
            close = difflib.get_close_matches(str(loc[-1]), names, n=1)
            if close:
                return f"did you mean {close[0]!r}? (allowed here: {', '.join(names)})"
            return f"allowed here: {', '.join(names)}"
        return "remove this key"
    if kind == "missing":
        return f"add {loc[-1]!r}"
    if kind == "union_tag_invalid":
        return f"use one of: {err.get('ctx', {}).get('expected_tags', '')}"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ",").split(",") if o.strip()]
        close = difflib.get_close_matches(str(err.get("input")), options, n=1)
        return (f"did you mean {close[0]!r}? " if close else "") + f"(one of: {expected})"
    if kind == "url_parsing" or kind == "url_scheme":
        return "write a full URL such as https://api.example.com"
    return None


def _message(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return f"unknown key {err['loc'][-1]!r}"
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


@dataclass
class _Anchor:
    line: int
    name: str

    def at(self, file: str) -> Problem:
        return Problem(
            file,
            self.line,
            "",
            f"YAML anchors and aliases are not accepted (&{self.name} / *{self.name}): "
            "a few aliases can expand into a document too large to validate",
            "write the repeated value out in each place",
        )


def _first_anchor(text: str) -> _Anchor | None:
    """The first anchor or alias, found from the event stream (linear: nothing is expanded)."""
    from ruamel.yaml.events import AliasEvent

    for event in YAML(typ="rt").parse(text):
        name = getattr(event, "anchor", None)
        if isinstance(event, AliasEvent) or name:
            mark = getattr(event, "start_mark", None)
            return _Anchor(mark.line + 1 if mark else 1, str(name))
    return None


def load_definitions(path: str | Path, *, check_secrets: bool = True) -> LoadResult:
    path = Path(path)
    if not path.exists():
        return LoadResult(
            None,
            [Problem(str(path), None, "", "no such file or folder", "give a YAML file or a folder of them")],
        )
    files = _files(path)
    if not files:
        return LoadResult(None, [Problem(str(path), None, "", "no .yaml or .yml files in this folder")])
    yaml = YAML(typ="rt")
    merged: dict[str, Any] = {}
    origins: dict[tuple[str, int | None], _Origin] = {}
    problems: list[Problem] = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
            alias = _first_anchor(text)
            if alias is not None:
                problems.append(alias.at(str(f)))
                continue
            doc = yaml.load(text)
        except MarkedYAMLError as err:
            mark = err.problem_mark
            problems.append(
                Problem(
                    str(f),
                    mark.line + 1 if mark else None,
                    "",
                    f"not valid YAML: {err.problem}",
                    "check indentation and quoting on that line",
                )
            )
            continue
        if doc is None:
            continue
        if not isinstance(doc, CommentedMap):
            problems.append(
                Problem(str(f), 1, "", "the document must be a mapping with keys " + ", ".join(SECTIONS))
            )
            continue
        for key in doc:
            line = doc.lc.key(key)[0] + 1
            if key not in SECTIONS:
                close = difflib.get_close_matches(str(key), SECTIONS, n=1)
                problems.append(
                    Problem(
                        str(f),
                        line,
                        str(key),
                        f"unknown section {key!r}",
                        f"did you mean {close[0]!r}?" if close else f"sections are: {', '.join(SECTIONS)}",
                    )
                )
                continue
            value = doc[key]
            if key == "touchpoint":
                if "touchpoint" in merged:
                    problems.append(
                        Problem(
                            str(f),
                            line,
                            "touchpoint",
                            "touchpoint is defined in more than one file",
                            "keep one touchpoint section",
                        )
                    )
                    continue
                merged["touchpoint"] = value
                origins[("touchpoint", None)] = _Origin(str(f), value, line)
                continue
            if value is None:
                continue
            if not isinstance(value, CommentedSeq):
                problems.append(
                    Problem(
                        str(f),
                        line,
                        str(key),
                        f"{key} must be a list",
                        "write each item on a line starting with '- '",
                    )
                )
                continue
            items = merged.setdefault(key, [])
            for i, item in enumerate(value):
                origins[(key, len(items))] = _Origin(str(f), item, value.lc.item(i)[0] + 1)
                items.append(item)

    definitions: Definitions | None = None
    try:
        definitions = Definitions.model_validate(merged)
    except ValidationError as exc:
        for verr in exc.errors():
            loc = tuple(verr["loc"])
            section = str(loc[0]) if loc else ""
            if section == "touchpoint":
                origin = origins.get(("touchpoint", None))
                rest = loc[1:]
            elif len(loc) >= 2 and isinstance(loc[1], int):
                origin = origins.get((section, loc[1]))
                rest = loc[2:]
            else:
                origin, rest = None, loc
            file = origin.file if origin else str(files[0] if len(files) == 1 else path)
            line, shown = _walk(origin.node, rest, origin.line) if origin else (None, rest)
            shown_loc = loc[: len(loc) - len(rest)] + shown
            problems.append(
                Problem(file, line, _format_loc(shown_loc), _message(dict(verr)), _hint(dict(verr)))
            )

    if definitions is not None:
        problems += _semantic_checks(definitions, origins, check_secrets)
    if any(p.severity == "error" for p in problems):
        definitions = None
    problems.sort(key=lambda p: (p.file, p.line or 0))
    return LoadResult(definitions, problems)


def _semantic_checks(
    defs: Definitions, origins: dict[tuple[str, int | None], _Origin], check_secrets: bool
) -> list[Problem]:
    problems: list[Problem] = []

    def where(section: str, index: int, *loc: Any) -> tuple[str, int | None]:
        o = origins.get((section, index))
        if o is None:
            return "", None
        return o.file, line_of(o.node, loc, o.line)

    for section in ("connections", "flows", "fetches"):
        seen: dict[str, int] = {}
        for i, item in enumerate(getattr(defs, section)):
            name = getattr(item, "name", None)
            if name in seen:
                f, line = where(section, i, "name")
                problems.append(
                    Problem(
                        f,
                        line,
                        f"{section}[{i}].name",
                        f"duplicate name {name!r} (also {section}[{seen[name]}])",
                        "names must be unique within a section",
                    )
                )
            elif name is not None:
                seen[name] = i

    known = {c.name for c in defs.connections}
    for section in ("flows", "fetches"):
        for i, item in enumerate(getattr(defs, section)):
            for loc, ref in _connection_refs(item.model_dump(mode="python")):
                if ref not in known:
                    f, line = where(section, i, *loc)
                    close = difflib.get_close_matches(ref, sorted(known), n=1)
                    hint = (
                        f"did you mean {close[0]!r}?"
                        if close
                        else f"define it under connections: (defined: {', '.join(sorted(known)) or 'none'})"
                    )
                    problems.append(
                        Problem(
                            f,
                            line,
                            f"{section}[{i}]." + _format_loc(loc),
                            f"unknown connection {ref!r}",
                            hint,
                        )
                    )
    for i, fetch in enumerate(defs.fetches):
        if fetch.transform:
            try:
                jolt.compile(fetch.transform)
            except TransformError as err:
                loc = ("transform", *jolt.error_location(fetch.transform, err))
                f, line = where("fetches", i, *loc)
                hint = "try the spec on a record: eventsync transform try --spec FILE --input RECORD --explain"
                problems.append(Problem(f, line, f"fetches[{i}]." + _format_loc(loc), err.message, hint))
    if defs.touchpoint is not None:
        o = origins.get(("touchpoint", None))
        for key in ("connection", "platform"):
            tp_ref = getattr(defs.touchpoint, key, None)
            if isinstance(tp_ref, str) and tp_ref not in known:
                problems.append(
                    Problem(
                        o.file if o else "",
                        line_of(o.node, (key,), o.line) if o else None,
                        f"touchpoint.{key}",
                        f"unknown connection {tp_ref!r}",
                        f"define it under connections: (defined: {', '.join(sorted(known)) or 'none'})",
                    )
                )
        if defs.touchpoint.name in {f.name for f in defs.flows}:
            problems.append(
                Problem(
                    o.file if o else "",
                    line_of(o.node, ("name",), o.line) if o else None,
                    "touchpoint.name",
                    f"{defs.touchpoint.name!r} is also a flow's name; the Touchpoint sync runs as a flow",
                    "give the touchpoint section another name:",
                )
            )

    if check_secrets:
        for i, conn in enumerate(defs.connections):
            for fname in ("password", "token", "key", "client_secret", "refresh_token"):
                secret_ref = getattr(conn.auth, fname, None)
                if isinstance(secret_ref, str):
                    why = check_secret(secret_ref, connection=conn.name, field=f"auth.{fname}")
                    if why:
                        f, line = where("connections", i, "auth", fname)
                        problems.append(
                            Problem(
                                f,
                                line,
                                f"connections[{i}].auth.{fname}",
                                why,
                                "set it where the worker runs before a run uses this connection",
                                severity="warning",
                            )
                        )
    return problems


def _connection_refs(data: Any, loc: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], str]]:
    """Every value under a key named `connection` or ending in `_connection`."""
    found: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if (k == "connection" or str(k).endswith("_connection")) and isinstance(v, str):
                found.append(((*loc, k), v))
            else:
                found += _connection_refs(v, (*loc, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            found += _connection_refs(v, (*loc, i))
    return found


def load_or_raise(path: str | Path, *, check_secrets: bool = False) -> Definitions:
    result = load_definitions(path, check_secrets=check_secrets)
    if result.definitions is None:
        raise DefinitionsError(result.errors)
    return result.definitions
