"""The root of a definitions file (or of a folder of them, merged)."""

from __future__ import annotations

from pydantic import Field

from eventsync.definitions.common import Strict
from eventsync.definitions.connections import Connection
from eventsync.definitions.fetches import FetchDefinition, PlatformBulkUpsert
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

    def platform_accounts(self, connection: str) -> list[str]:
        """The platform account codes read or written through `connection`: a platform connection
        holds no account itself (every platform path carries one), the flows, the touchpoint
        block and the fetch targets that use it do."""
        found = [f.source.account for f in self.flows if f.source.connection == connection]
        if self.touchpoint is not None and self.touchpoint.platform == connection:
            found.append(self.touchpoint.account)
        found += [
            f.target.account
            for f in self.fetches
            if isinstance(f.target, PlatformBulkUpsert) and f.target.connection == connection
        ]
        return list(dict.fromkeys(found))
