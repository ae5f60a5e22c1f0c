"""The root of a definitions file (or of a folder of them, merged)."""

from __future__ import annotations

from pydantic import Field

from eventsync.definitions.common import Strict
from eventsync.definitions.connections import Connection
from eventsync.definitions.fetches import FetchDefinition
from eventsync.definitions.flows import FlowDefinition
from eventsync.definitions.touchpoint import TouchpointDefinition


class Definitions(Strict):
    connections: list[Connection] = Field(default_factory=list)
    flows: list[FlowDefinition] = Field(default_factory=list)
    fetches: list[FetchDefinition] = Field(default_factory=list)
    touchpoint: TouchpointDefinition | None = None

    def connection(self, name: str) -> Connection:
        for c in self.connections:
            if c.name == name:
                return c
        raise KeyError(
            f"no connection named {name!r} (defined: {', '.join(c.name for c in self.connections) or 'none'})"
        )
