"""What Signal flows read from the platform API (through the shared HTTP core):

- the tags on each registration status of an event, for `changed_to` rules (a webhook carries
  only the previous status's label), cached per worker process for a minute;
- registrations modified in a date range, page by page, for `eventsync replay`.

Paths are those of the platform API 2.0 (docs/sandbox.md): the connection's `base_url` is the
platform's root, e.g. `https://platform.example.com`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from eventsync.http import ConnectionClient, HTTPCallError
from eventsync.platform_tags import tag_names as _tag_names

API = "/certainExternal/service/v1"
STATUS_TTL_S = 60.0
PAGE_SIZE = 500

_status_cache: dict[tuple[str, str, str], tuple[float, dict[str, tuple[str, ...]]]] = {}


def _seg(value: str) -> str:
    """An account or event code as one path segment, so data cannot reach another path (docs/security.md)."""
    return quote(value, safe="")


async def status_tags(conn: ConnectionClient, account: str, event_code: str) -> dict[str, tuple[str, ...]]:
    """Status label -> the tags on that status, in this event (standard and custom statuses)."""
    key = (conn.name, account, event_code)
    hit = _status_cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < STATUS_TTL_S:
        return hit[1]
    doc = (
        await conn.request(
            "GET",
            f"{API}/RegistrationStatus/{_seg(account)}/{_seg(event_code)}",
            params={"includeList": "tags", "max_results": 1000},
        )
    ).json()
    table = {str(s.get("label")): _tag_names(s.get("tags")) for s in doc.get("registrationStatuses") or []}
    _status_cache[key] = (now, table)
    return table


async def registrations_modified(
    conn: ConnectionClient,
    account: str,
    after: str,
    before: str,
    event_codes: list[str] | None = None,
    page_size: int = PAGE_SIZE,
) -> AsyncIterator[dict[str, Any]]:
    """Registrations with `after < dateModified < before`, oldest change first, with their tags,
    answers and properties (`includeList=all`). An empty page (404) ends a listing."""
    paths = (
        [f"{API}/Registration/{_seg(account)}/{_seg(e)}" for e in event_codes]
        if event_codes
        else [f"{API}/Registration/{_seg(account)}"]
    )
    for path in paths:
        start = 0
        while True:
            params = {
                "dateModified_after": after,
                "dateModified_before": before,
                "orderBy": "dateModified_asc",
                "includeList": "all",
                "max_results": page_size,
                "start_index": start,
            }
            try:
                doc = (await conn.request("GET", path, params=params)).json()
            except HTTPCallError as err:
                if err.status == 404:
                    break
                raise
            items = doc.get("registrations") or []
            for item in items:
                yield item
            if len(items) < page_size:
                break
            start += len(items)
