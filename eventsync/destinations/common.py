"""Pieces every vendor adapter uses: reading a rendered body back, batching without duplicate
keys, quota reset times, and turning an HTTP-core error into per-item results."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from eventsync.definitions.flows import FlowDefinition
from eventsync.destinations.base import DeliveryItem, ItemResult
from eventsync.http import HTTPCallError

T = TypeVar("T")


def segment(value: object) -> str:
    """`value` as one URL path segment: every reserved character percent-encoded, so a value
    from a record (`../../admin/users?all=1#`) cannot leave its segment, add a query or a
    fragment. A segment of only dots is encoded too (servers resolve `..` before routing)."""
    text = quote(str(value), safe="")
    return text.replace(".", "%2E") if text.strip(".") == "" else text


def fields_of(item: DeliveryItem) -> dict[str, Any]:
    """The mapped vendor fields of a rendered body (eventsync.flows.decide.render). A null value is
    not sent: the vendors would blank the field (or reject the record) for a question not answered."""
    body = item.body if isinstance(item.body, dict) else {}
    fields = body.get("fields")
    return {k: v for k, v in fields.items() if v is not None} if isinstance(fields, dict) else {}


def value_of(item: DeliveryItem, name: str) -> Any:
    """A follow-up step's value (`program.ref`, `campaign.status`, ...); None when it has none."""
    body = item.body if isinstance(item.body, dict) else {}
    steps = body.get("steps")
    return steps.get(name) if isinstance(steps, dict) else None


def status_text(raw: Any) -> str | None:
    """A status as the vendor takes it: text, the first of several, None when there is none."""
    if raw in (None, "", []):
        return None
    return str(raw[0] if isinstance(raw, list) else raw)


def chunks(seq: Sequence[T], size: int) -> list[list[T]]:
    return [list(seq[i : i + size]) for i in range(0, len(seq), max(1, size))]


def waves(items: Iterable[T], key: Callable[[T], str]) -> list[list[T]]:
    """Split into consecutive groups with no key twice in a group: two registrations with one
    email in one call make the vendor reject (or merge) one of them, so the later waits a call."""
    out: list[list[T]] = []
    keys: list[set[str]] = []
    for it in items:
        k = key(it)
        for group, seen in zip(out, keys, strict=True):
            if k not in seen:
                group.append(it)
                seen.add(k)
                break
        else:
            out.append([it])
            keys.append({k})
    return out


def seconds_until_midnight(tz: str, now: dt.datetime | None = None) -> float:
    zone = ZoneInfo(tz)
    here = (now or dt.datetime.now(dt.UTC)).astimezone(zone)
    nxt = dt.datetime.combine(here.date() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
    return max(1.0, (nxt - here).total_seconds())


def error_results(items: Iterable[DeliveryItem], err: HTTPCallError, prefix: str = "") -> list[ItemResult]:
    msg = f"{prefix}{err}"
    if err.retryable:
        return [ItemResult(i.event_id, "retry", err.status, msg, err.retry_after) for i in items]
    return [ItemResult(i.event_id, "rejected", err.status, msg) for i in items]


def final_result(
    item: DeliveryItem,
    failed: ItemResult | None,
    label: str,
    vendor_id: str | None,
    action: str | None,
    notes: Sequence[str] = (),
) -> ItemResult:
    """One record's outcome after every step: the failure (prefixed with what was already done to
    the record, e.g. "contact 17 created; ") or a delivery carrying the vendor's id and action."""
    if failed is not None:
        pre = f"{label}; " if vendor_id else ""
        return dataclasses.replace(failed, detail=pre + failed.detail, vendor_id=vendor_id, action=action)
    detail = "; ".join([label, *notes])
    return ItemResult(item.event_id, "ok", 200, detail, vendor_id=vendor_id, action=action)


def quota_wait(
    items: Iterable[DeliveryItem], err: HTTPCallError, seconds: float, what: str
) -> list[ItemResult]:
    hours, rest = divmod(int(seconds), 3600)
    detail = f"{what}: waiting for the reset in {hours} h {rest // 60} min ({err.vendor_code or err.status})"
    return [ItemResult(i.event_id, "retry", err.status, detail, seconds, wait=True) for i in items]


def share_of(flow: FlowDefinition, share: float, limit: int) -> int:
    return max(1, int(limit * share))
