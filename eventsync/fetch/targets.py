"""Target actions: where transformed records go, one chunk per request."""

from __future__ import annotations

from typing import Any

from eventsync.definitions.fetches import HttpTarget, PlatformBulkUpsert
from eventsync.fetch.errors import FetchError
from eventsync.fetch.models import Rejection
from eventsync.fetch.requester import Requester
from eventsync.platform.api import bulk_upsert_path


def _key(record: dict[str, Any], match_key: str) -> str | None:
    profile = record.get("profile")
    value = profile.get(match_key) if isinstance(profile, dict) else None
    if value is None:
        value = record.get(match_key)
    return None if value is None else str(value)


def _reason(result: Any) -> str:
    if not isinstance(result, dict):
        return "rejected"
    errors = result.get("errors")
    if isinstance(errors, list) and errors:
        return "; ".join(
            f"{e.get('code', '')}: {e.get('message', '')}" if isinstance(e, dict) else str(e) for e in errors
        )
    return str(result.get("error") or result.get("status") or "rejected")


async def apply_chunk(
    target: PlatformBulkUpsert | HttpTarget, client: Requester, chunk: list[dict[str, Any]]
) -> tuple[int, list[Rejection]]:
    """Send one chunk; return (applied, per-record rejections). A failure of the whole request
    raises (HTTP errors from the core, FetchError for a response we cannot read)."""
    if isinstance(target, HttpTarget):
        body: Any = {target.wrap_key: chunk} if target.wrap_key else chunk
        resp = await client.request(target.method, target.path, json=body)
        return _generic_results(resp, chunk)
    path = bulk_upsert_path(target.account, target.event)
    resp = await client.request("POST", path, json={"matchBy": target.match_key, "registrations": chunk})
    try:
        results = resp.json().get("results")
    except Exception:
        results = None
    if not isinstance(results, list) or len(results) != len(chunk):
        raise FetchError(f"target {path}: bulk upsert answered without one result per record")
    applied = 0
    rejections: list[Rejection] = []
    for record, result in zip(chunk, results, strict=True):
        if isinstance(result, dict) and result.get("status") in ("created", "updated", "unchanged"):
            applied += 1
        else:
            rejections.append(Rejection(key=_key(record, target.match_key), reason=_reason(result)))
    return applied, rejections


_FAILED = {"error", "rejected", "failed"}


def _generic_results(resp: Any, chunk: list[dict[str, Any]]) -> tuple[int, list[Rejection]]:
    """A 2xx means the chunk landed, unless the body lists one result per record
    (`{"results": [{"status": "error", "error": …}, …]}`, a 207 multi-status)."""
    try:
        data = resp.json()
    except ValueError:
        return len(chunk), []
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(chunk):
        return len(chunk), []
    rejections = [
        Rejection(
            key=str(record.get("id")) if record.get("id") is not None else None,
            reason=_reason(r),
        )
        for record, r in zip(chunk, results, strict=True)
        if isinstance(r, dict) and str(r.get("status", "")).lower() in _FAILED
    ]
    return len(chunk) - len(rejections), rejections
