"""`{{name}}` templates for request paths, query values, headers and bodies."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}")


class TemplateError(ValueError):
    pass


def _lookup(name: str, variables: Mapping[str, Any], where: str) -> Any:
    if name in variables:
        return variables[name]
    head, _, rest = name.partition(".")
    if rest and head in variables:
        value: Any = variables[head]
        for part in rest.split("."):
            if isinstance(value, Mapping) and part in value:
                value = value[part]
            else:
                raise TemplateError(f"{where}: {{{{{name}}}}}: {head!r} has no field {part!r}")
        return value
    known = ", ".join(sorted(variables)) or "none"
    raise TemplateError(f"{where}: unknown variable {{{{{name}}}}} (known: {known})")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def render(template: str, variables: Mapping[str, Any], where: str = "template") -> str:
    return _VAR.sub(lambda m: _text(_lookup(m.group(1), variables, where)), template)


def render_value(template: Any, variables: Mapping[str, Any], where: str = "body") -> Any:
    """Render every string leaf of a JSON value. A leaf that is exactly one `{{var}}` keeps the
    variable's own type (a page number stays a number in a JSON body)."""
    if isinstance(template, str):
        whole = _VAR.fullmatch(template.strip())
        if whole:
            return _lookup(whole.group(1), variables, where)
        return render(template, variables, where)
    if isinstance(template, Mapping):
        return {k: render_value(v, variables, f"{where}.{k}") for k, v in template.items()}
    if isinstance(template, list):
        return [render_value(v, variables, f"{where}[{i}]") for i, v in enumerate(template)]
    return template


def names(template: str) -> set[str]:
    return {m.group(1) for m in _VAR.finditer(template)}
