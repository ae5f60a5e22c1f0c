"""Turning a chain's parsed jolt-py transforms into generated functions, one per entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pyjolt import (
    Cardinality,
    Default,
    ModifyDefault,
    ModifyDefine,
    ModifyOverwrite,
    Remove,
    Shift,
    Sort,
    Transform,
)

from eventsync.transforms.joltc import cardinality as cardinality_gen
from eventsync.transforms.joltc import default as default_gen
from eventsync.transforms.joltc import modify as modify_gen
from eventsync.transforms.joltc import remove as remove_gen
from eventsync.transforms.joltc import shift as shift_gen
from eventsync.transforms.joltc.source import Unsupported, deep_copy

__all__ = ["build", "deep_copy", "generate", "Fn"]

Fn = Callable[[Any, Any], Any]


def generate(transform: Transform, entry: dict[str, Any], *, first: bool, trace: bool = False) -> Fn:
    """Generated Python for one entry; raises Unsupported when it is not specialised."""
    raw = entry.get("spec")
    spec: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if isinstance(transform, Shift):
        return shift_gen.generate(transform, spec, own=first, trace=trace)  # type: ignore[no-any-return]
    if isinstance(transform, Default):
        return default_gen.generate(transform, spec)  # type: ignore[no-any-return]
    if isinstance(transform, (ModifyOverwrite, ModifyDefault, ModifyDefine)):
        return modify_gen.generate(transform, spec)  # type: ignore[no-any-return]
    if isinstance(transform, Remove):
        return remove_gen.generate(transform)  # type: ignore[no-any-return]
    if isinstance(transform, Sort):
        return remove_gen.sort
    if isinstance(transform, Cardinality):
        return cardinality_gen.generate(transform)  # type: ignore[no-any-return]
    raise Unsupported(f"{type(transform).__name__} is not specialised")


def _interpreted(transform: Transform) -> Fn:
    def run(data: Any, ctx: Any) -> Any:
        return transform._apply_owned(data, ctx)

    return run


def build(
    transforms: Sequence[Transform], entries: Sequence[dict[str, Any]]
) -> tuple[list[Fn], list[str | None], bool]:
    """(functions, per entry the reason it runs through jolt-py or None, whether to copy the input).

    A compiled shift (or sort) reads its input without changing it, so a chain that starts with
    one needs no up-front copy of the input; every other entry works in place on owned data.
    """
    fns: list[Fn] = []
    reasons: list[str | None] = []
    for i, (transform, entry) in enumerate(zip(transforms, entries, strict=True)):
        try:
            fns.append(generate(transform, entry, first=i == 0))
            reasons.append(None)
        except Unsupported as why:
            fns.append(_interpreted(transform))
            reasons.append(str(why))
        except (RecursionError, SyntaxError, MemoryError) as too_big:
            # Python limits nesting (20 loop/try blocks, 100 indentation levels)
            fns.append(_interpreted(transform))
            reasons.append(f"the spec is too deeply nested to generate ({type(too_big).__name__})")
    copy_input = not (isinstance(transforms[0], (Shift, Sort)) and reasons[0] is None)
    return fns, reasons, copy_input
