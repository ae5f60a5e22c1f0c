"""Activate-for, filters and mappings: from an event to "skip, and why" or "send this body".

The transforms issue brings the full mapping language and tag-rule engine (eventsync.transforms);
this module is the seam: `decide(flow, event)` and `render(...)` are what the delivery path
calls, so swapping the engine underneath changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath  # type: ignore[import-untyped]
from jsonpath_ng.ext import parse as jsonpath_parse  # type: ignore[import-untyped]

from eventsync.definitions.flows import (
    AdvancedWebhookDestination,
    FieldCondition,
    FlowDefinition,
    Rules,
    TagCondition,
    WebhookDestination,
)
from eventsync.signal.events import PlatformEvent


class MappingError(ValueError):
    """A mapping that cannot be compiled or applied; names the flow, the field and the expression."""


@dataclass(frozen=True)
class Decision:
    activated: bool
    rule: str  # which rule decided, in words a user reads in `explain`


def context_of(event: PlatformEvent) -> dict[str, Any]:
    """What expressions see: the record's fields, plus `event`, `tags`, `answers`, `previous`."""
    rec = dict(event.record)
    tags = rec.get("tags") if isinstance(rec.get("tags"), dict) else {}
    ctx: dict[str, Any] = dict(rec)
    ctx["tags"] = {k: list(v) if isinstance(v, list) else [v] for k, v in (tags or {}).items()}
    ctx["event"] = {"code": event.event_code, "account": event.account, "type": event.type, "id": event.id}
    ctx["previous"] = {
        "status": event.data.get("previous_status"),
        "tags": {"status": list(event.data.get("previous_status_tags") or [])},
    }
    return ctx


_TAG_KEYS = {
    "status": "status",
    "attendee_type": "attendee_type",
    "event": "event",
    "question": "questions",
    "property": "properties",
}


def _tags(ctx: dict[str, Any], on: str) -> list[str]:
    raw = ctx["tags"].get(_TAG_KEYS[on], [])
    if isinstance(raw, dict):  # questions/properties: {code: [tags]}
        return [t for v in raw.values() for t in (v if isinstance(v, list) else [v])]
    return [str(t) for t in raw]


def _tag_ok(c: TagCondition, ctx: dict[str, Any]) -> bool:
    have = _tags(ctx, c.on)
    want = set(c.tags)
    if c.op == "is":
        return bool(want & set(have))
    if c.op == "is_one_of" or c.op == "contains":
        return bool(want & set(have))
    if c.op == "is_not":
        return not (want & set(have))
    if c.op == "is_empty":
        return not have
    if c.op == "is_not_empty":
        return bool(have)
    # changed_to: now carries the tag, and the previous status did not
    before = set(ctx["previous"]["tags"]["status"])
    return bool(want & set(have)) and not (want & before)


def _get(ctx: dict[str, Any], dotted: str) -> Any:
    cur: Any = ctx
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _field_ok(c: FieldCondition, ctx: dict[str, Any]) -> bool:
    v = _get(ctx, c.field)
    if c.op == "is":
        return bool(v == c.value)
    if c.op == "is_not":
        return bool(v != c.value)
    if c.op == "is_one_of":
        return v in (c.value or [])
    if c.op == "contains":
        return v is not None and str(c.value) in str(v)
    if c.op == "is_empty":
        return v in (None, "", [], {})
    return v not in (None, "", [], {})


def _describe(kind: str, c: TagCondition | FieldCondition) -> str:
    if isinstance(c, TagCondition):
        return f"{kind}: {c.on} tags {c.op} {c.tags}"
    return f"{kind}: {c.field} {c.op} {c.value!r}"


def _rules_ok(kind: str, rules: Rules, ctx: dict[str, Any]) -> tuple[bool, str]:
    conds: list[TagCondition | FieldCondition] = [*rules.tags, *rules.fields]
    if not conds:
        return True, f"{kind}: no conditions"
    results = [
        (_tag_ok(c, ctx) if isinstance(c, TagCondition) else _field_ok(c, ctx), _describe(kind, c))
        for c in conds
    ]
    if rules.match == "all":
        for ok, why in results:
            if not ok:
                return False, f"not matched, {why}"
        return True, f"{kind}: all {len(results)} conditions matched"
    for ok, why in results:
        if ok:
            return True, f"matched, {why}"
    return False, f"{kind}: none of {len(results)} conditions matched"


def decide(flow: FlowDefinition, event: PlatformEvent) -> Decision:
    if event.type not in flow.source.events:
        return Decision(False, f"source: event type {event.type} is not a trigger of this flow")
    if flow.source.event_codes and event.event_code not in flow.source.event_codes:
        return Decision(False, f"source: event {event.event_code!r} is not in {flow.source.event_codes}")
    ctx = context_of(event)
    ok, why = _rules_ok("activate_for", flow.activate_for, ctx)
    if not ok:
        return Decision(False, why)
    ok2, why2 = _rules_ok("filters", flow.filters, ctx)
    if not ok2:
        return Decision(False, why2)
    return Decision(True, f"{why}; {why2}")


@lru_cache(maxsize=4096)
def _compile(expr: str) -> JSONPath:
    return jsonpath_parse(expr)


def _value(flow: str, field: str, expr: str, ctx: dict[str, Any]) -> Any:
    if expr.startswith("="):
        return expr[1:]
    if not expr.startswith("$"):
        return expr
    try:
        found = [m.value for m in _compile(expr).find(ctx)]
    except Exception as e:  # jsonpath-ng raises several types on a bad expression
        raise MappingError(f"flow {flow!r}, field {field!r}: bad expression {expr!r}: {e}") from None
    if not found:
        return None
    return found[0] if len(found) == 1 else found


def check_mappings(flow: FlowDefinition) -> None:
    """Compile every expression once so a typo is reported at validate time, not per record."""
    for field, expr in _expressions(flow):
        if expr.startswith("$"):
            try:
                _compile(expr)
            except Exception as e:
                raise MappingError(
                    f"flow {flow.name!r}, field {field!r}: bad expression {expr!r}: {e}"
                ) from None


def _expressions(flow: FlowDefinition) -> list[tuple[str, str]]:
    dest = flow.destination
    if isinstance(dest, WebhookDestination):
        return [(f, e) for m in dest.mappings for f, e in m.fields.items()]
    out: list[tuple[str, str]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")
        elif isinstance(node, str):
            out.append((path, node))

    walk(dest.template, "template")
    return out


def render(flow: FlowDefinition, event: PlatformEvent) -> Any:
    """The destination body for this event."""
    ctx = context_of(event)
    dest = flow.destination
    if isinstance(dest, WebhookDestination):
        status_tags = set(_tags(ctx, "status")) | set(_tags(ctx, "attendee_type"))
        chosen = next((m for m in dest.mappings if m.when_tag is None or m.when_tag in status_tags), None)
        if chosen is None:
            raise MappingError(f"flow {flow.name!r}: no mapping applies (none without when_tag)")
        if not chosen.fields:  # no mapping: the record's own flat fields, as the platform sent them
            return {k: v for k, v in event.record.items() if not isinstance(v, dict | list)}
        return {f: _value(flow.name, f, e, ctx) for f, e in chosen.fields.items()}
    assert isinstance(dest, AdvancedWebhookDestination)

    def build(node: Any, path: str) -> Any:
        if isinstance(node, dict):
            return {k: build(v, f"{path}.{k}") for k, v in node.items()}
        if isinstance(node, list):
            return [build(v, f"{path}[{i}]") for i, v in enumerate(node)]
        if isinstance(node, str) and node.startswith("$"):
            return _value(flow.name, path, node, ctx)
        return node

    return build(dest.template, "template")
