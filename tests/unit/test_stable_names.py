"""Every workflow, activity, signal, query and update names itself explicitly, so renaming a Python
class or function never breaks running histories, schedules or the `temporal` commands in docs."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DECORATORS = {
    ("workflow", "defn"),
    ("activity", "defn"),
    ("workflow", "signal"),
    ("workflow", "query"),
    ("workflow", "update"),
}


def _unnamed() -> list[str]:
    out = []
    for path in sorted([*(ROOT / "workflows").rglob("*.py"), *(ROOT / "activities").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for dec in node.decorator_list:
                target = dec.func if isinstance(dec, ast.Call) else dec
                if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
                    continue
                if (target.value.id, target.attr) not in DECORATORS:
                    continue
                named = isinstance(dec, ast.Call) and any(k.arg == "name" for k in dec.keywords)
                if not named:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    return out


def test_every_temporal_type_has_an_explicit_name() -> None:
    assert _unnamed() == []
