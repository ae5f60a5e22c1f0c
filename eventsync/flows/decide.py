"""Activate-for, filters and mappings: from an event to "skip, and why" or "send this body".

Everything here is the transforms' engine (eventsync.tags rules with their explanations,
eventsync.transforms.mapping compiled mappings); this module only says in which order a flow
applies them and words the decision for `explain`. A flow compiles once per worker process.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from eventsync.definitions.destinations import steps_mapping
from eventsync.definitions.flows import FlowDefinition
from eventsync.flows.events import PlatformEvent
from eventsync.registration import Registration
from eventsync.tags import AllOf, AnyOf, CompiledRule, Condition, compile_rule
from eventsync.transforms.errors import TransformError
from eventsync.transforms.mapping import CompiledMapping, FlowMapping, compile_mapping

__all__ = ["Decision", "CompiledFlow", "compiled", "decide", "render", "TransformError"]


@dataclass(frozen=True)
class Decision:
    activated: bool
    rule: str  # which rule decided, in words a user reads in `explain`


def _uses_changed_to(rule: Condition | AllOf | AnyOf) -> bool:
    if isinstance(rule, AllOf):
        return any(_uses_changed_to(r) for r in rule.all)
    if isinstance(rule, AnyOf):
        return any(_uses_changed_to(r) for r in rule.any)
    return rule.op == "changed_to"


class CompiledFlow:
    """A flow's rules and mapping, compiled: the per-record work is calls on these."""

    def __init__(self, flow: FlowDefinition) -> None:
        self.name = flow.name
        self.activate: CompiledRule | None = (
            compile_rule(flow.activate_for) if flow.activate_for is not None else None
        )
        self.filters = [compile_rule(r) for r in flow.filters]
        mapping: FlowMapping | None = flow.destination.mapping
        self.mapping: CompiledMapping | None = (
            compile_mapping(mapping, flow=flow.name) if mapping is not None else None
        )
        # Native destinations: the follow-up steps' per-event values (program, campaign, ...).
        steps = steps_mapping(flow.destination)
        # Vendor destinations take {fields, steps}; webhooks and Touchpoint take the body itself.
        self.native = flow.destination.kind in ("marketo", "eloqua", "salesforce", "hubspot")
        self.steps: CompiledMapping | None = (
            compile_mapping(steps, flow=flow.name) if steps is not None else None
        )
        rules = [r.rule for r in ([self.activate] if self.activate else []) + self.filters]
        rules += [b.when for b in (mapping.branches if mapping is not None else [])]
        # Only a `changed_to` needs the previous status's tags (a lookup on the platform).
        self.needs_previous = any(_uses_changed_to(r) for r in rules)


_CACHE: OrderedDict[str, CompiledFlow] = OrderedDict()
# The same (frozen) flow object is asked about for every event of a batch: skip even the
# content key (~20 us per call) for it. The object is held, so its id cannot be reused.
_LAST: list[tuple[FlowDefinition, CompiledFlow]] = []


def compiled(flow: FlowDefinition) -> CompiledFlow:
    for obj, known in _LAST:
        if obj is flow:
            return known
    # Keyed by content: a changed definition (same name) compiles anew.
    key = flow.model_dump_json()
    hit = _CACHE.get(key)
    if hit is None:
        hit = _CACHE[key] = CompiledFlow(flow)
        while len(_CACHE) > 64:
            _CACHE.popitem(last=False)
    _LAST.insert(0, (flow, hit))
    del _LAST[8:]
    return hit


def decide(
    flow: FlowDefinition, event: PlatformEvent, current: Registration, previous: Registration | None
) -> Decision:
    """`previous` is the registration before a status change (None: a new one or unknown)."""
    if event.type not in flow.source.events:
        return Decision(False, f"source: event type {event.type} is not a trigger of this flow")
    if flow.source.event_codes and event.event_code not in flow.source.event_codes:
        return Decision(False, f"source: event {event.event_code!r} is not in {flow.source.event_codes}")
    c = compiled(flow)
    said: list[str] = []
    if c.activate is not None:
        d = c.activate.evaluate(current, previous)
        if not d.matched:
            return Decision(False, f"activate_for {d.explain()}")
        said.append(f"activate_for {d.explain()}")
    else:
        said.append("activate_for: none (every record)")
    for i, rule in enumerate(c.filters):
        d = rule.evaluate(current, previous)
        if not d.matched:
            return Decision(False, f"filters[{i}] {d.explain()}")
        said.append(f"filters[{i}] {d.explain()}")
    return Decision(True, "; ".join(said))


def render(
    flow: FlowDefinition, event: PlatformEvent, current: Registration, previous: Registration | None
) -> Any:
    """The destination body. Raises TransformError (naming flow, field, expression) for a record
    the mapping cannot handle: that record parks, it is not retried.

    For a native destination: `{"fields": <the mapping's fields>, "steps": <program, campaign,
    ... values>}`, which its adapter reads back (eventsync.destinations.common)."""
    c = compiled(flow)
    if c.native:
        assert c.mapping is not None  # a native destination's mapping is required
        steps = c.steps(current, previous) if c.steps is not None else {}
        return {"fields": c.mapping(current, previous), "steps": steps}
    if c.mapping is None:
        return dict(event.record)
    return c.mapping(current, previous)
