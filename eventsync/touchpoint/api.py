"""Touchpoint's REST contract (docs/touchpoint-api.md) over the shared HTTP core."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from eventsync.http import ConnectionClient, HTTPCallError

PREFIX = "api/v1"


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


class TouchpointAPI:
    def __init__(self, conn: ConnectionClient) -> None:
        self.conn = conn

    def _path(self, *parts: str | int) -> str:
        return "/".join([PREFIX, *(_seg(p) for p in parts)])

    async def _get_or_none(self, path: str) -> dict[str, Any] | None:
        try:
            resp = await self.conn.request("GET", path)
        except HTTPCallError as e:
            if e.status == 404:
                return None
            raise
        data = resp.json()
        return data if isinstance(data, dict) else None

    # ---- events -----------------------------------------------------------------------------

    async def get_event(self, event_id: int) -> dict[str, Any] | None:
        return await self._get_or_none(self._path("events", event_id))

    async def put_event(self, event_id: int, fields: dict[str, Any]) -> dict[str, Any]:
        resp = await self.conn.request("PUT", self._path("events", event_id), json=fields)
        return dict(resp.json())

    # ---- attendees --------------------------------------------------------------------------

    async def get_attendee(self, event_id: int, code: str) -> dict[str, Any] | None:
        return await self._get_or_none(self._path("events", event_id, "attendees", code))

    async def put_attendee(self, event_id: int, code: str, fields: dict[str, Any]) -> dict[str, Any]:
        resp = await self.conn.request("PUT", self._path("events", event_id, "attendees", code), json=fields)
        return dict(resp.json())

    async def deactivate_attendee(self, event_id: int, code: str) -> bool:
        """False when Touchpoint has no such attendee (nothing to deactivate)."""
        try:
            await self.conn.request("POST", self._path("events", event_id, "attendees", code, "deactivate"))
        except HTTPCallError as e:
            if e.status == 404:
                return False
            raise
        return True

    async def delete_attendee(self, event_id: int, code: str) -> None:
        await self.conn.request("DELETE", self._path("events", event_id, "attendees", code))

    # ---- sessions ---------------------------------------------------------------------------

    async def get_session(self, event_id: int, code: str) -> dict[str, Any] | None:
        return await self._get_or_none(self._path("events", event_id, "sessions", code))

    async def put_session(self, event_id: int, code: str, fields: dict[str, Any]) -> dict[str, Any]:
        resp = await self.conn.request("PUT", self._path("events", event_id, "sessions", code), json=fields)
        return dict(resp.json())

    async def put_links(self, event_id: int, code: str, links: list[dict[str, str]]) -> dict[str, Any]:
        resp = await self.conn.request(
            "PUT", self._path("events", event_id, "sessions", code, "related-links"), json={"links": links}
        )
        return dict(resp.json())

    async def delete_session(self, event_id: int, code: str) -> None:
        await self.conn.request("DELETE", self._path("events", event_id, "sessions", code))
