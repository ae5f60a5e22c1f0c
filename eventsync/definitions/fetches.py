"""API Fetch definitions (owned by the API Fetch issue; placeholder until then)."""

from __future__ import annotations

from eventsync.definitions.common import Name, Strict


class FetchDefinition(Strict):
    name: Name
