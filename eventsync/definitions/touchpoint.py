"""Touchpoint sync definition (owned by the Touchpoint issue; placeholder until then)."""

from __future__ import annotations

from eventsync.definitions.common import Strict


class TouchpointDefinition(Strict):
    connection: str
