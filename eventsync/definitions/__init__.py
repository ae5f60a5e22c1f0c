"""What a user writes: connections, flows, fetches, touchpoint (YAML, validated by pydantic)."""

from eventsync.definitions.connections import Connection
from eventsync.definitions.document import Definitions

__all__ = ["Connection", "Definitions"]
