"""Signal flow definitions (owned by the Signal flows issue; placeholder until then)."""

from __future__ import annotations

from eventsync.definitions.common import Name, Strict


class FlowDefinition(Strict):
    name: Name
