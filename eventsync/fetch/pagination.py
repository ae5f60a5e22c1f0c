"""Pagination: which request comes next, per style (page number, offset/limit, keyset safe mode,
cursor from the body, next URL from the body, RFC 5988 Link header, none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from eventsync.definitions.fetches import (
    CursorPagination,
    FetchDefinition,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
)
from eventsync.fetch import checkpoint as cp
from eventsync.fetch import templating
from eventsync.fetch.jsonpaths import find_all, find_one
from eventsync.fetch.models import CheckpointValue, Position


@dataclass
class PreparedRequest:
    method: str
    url: str
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None


def first_position(defn: FetchDefinition) -> Position:
    p = defn.pagination
    if isinstance(p, PageNumberPagination):
        return Position(page=p.base)
    if isinstance(p, OffsetPagination):
        return Position(offset=0)
    return Position()


def _set_dotted(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = body
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value


def prepare(defn: FetchDefinition, position: Position, window: CheckpointValue | None) -> PreparedRequest:
    """The request for `position`. `window` is the checkpoint value the run filters on."""
    p = defn.pagination
    variables: dict[str, Any] = dict(defn.variables)
    params: dict[str, Any] = {}
    if defn.checkpoint is not None:
        ck = defn.checkpoint
        if isinstance(p, OffsetPagination) and p.safe_mode and position.keyset is not None:
            # Keyset: the boundary value itself, stepped back only as far as a '>' filter needs.
            value: CheckpointValue = position.keyset
            if ck.operator == ">":
                value = cp.lower_bound(ck.model_copy(update={"lookback": 0.0}), value)
        elif window is None:
            # First run: the initial value is the user's own floor, sent as written (stepping it
            # back could leave the source's range, e.g. epoch -1).
            value = cp.canonical(ck, ck.initial, "checkpoint.initial")
        else:
            value = cp.lower_bound(ck, window)
        variables[ck.variable] = cp.render(ck, value)
    if isinstance(p, PageNumberPagination):
        variables.update(page=position.page, count=p.size)
        if p.page_param:
            params[p.page_param] = position.page
        if p.size_param:
            params[p.size_param] = p.size
    elif isinstance(p, OffsetPagination):
        offset = position.skip if p.safe_mode else (position.offset or 0)
        variables.update(offset=offset, limit=p.limit)
        if p.offset_param:
            params[p.offset_param] = offset
        if p.limit_param:
            params[p.limit_param] = p.limit
    elif isinstance(p, CursorPagination):
        variables["cursor"] = position.cursor or ""
        if position.cursor is not None and p.cursor_param:
            params[p.cursor_param] = position.cursor

    req = defn.request
    headers = {k: templating.render(v, variables, f"request.headers.{k}") for k, v in req.headers.items()}
    body = templating.render_value(req.body, variables, "request.body") if req.body is not None else None
    if isinstance(p, CursorPagination) and p.cursor_body_path and position.cursor is not None:
        body = dict(body or {})
        _set_dotted(body, p.cursor_body_path, position.cursor)
    if position.url is not None:
        # The source's own next link carries every parameter it needs.
        return PreparedRequest(req.method, position.url, {}, headers, body)
    for k, v in req.query.items():
        params[k] = templating.render(v, variables, f"request.query.{k}")
    url = templating.render(req.path, variables, "request.path")
    if params:
        # httpx replaces a URL's query with `params` rather than merging: keep the template's own
        # query (Eloqua filters such as lastUpdatedAt>'…' are bare keys) and append ours.
        url += ("&" if "?" in url else "?") + urlencode(params)
    return PreparedRequest(req.method, url, {}, headers, body)


def _is_last_by_size(n: int, size: int, stop_on_short: bool) -> bool:
    return n == 0 or (stop_on_short and n < size)


def advance(
    defn: FetchDefinition,
    position: Position,
    response: httpx.Response,
    body: Any,
    n: int,
    values: list[CheckpointValue],
) -> Position | None:
    """The position after this page of `n` records, or None when it was the last. `values` are the
    page's records' checkpoint values in source order (empty without a checkpoint)."""
    p = defn.pagination
    if isinstance(p, NoPagination):
        return None
    if isinstance(p, PageNumberPagination):
        assert position.page is not None
        if _is_last_by_size(n, p.size, p.stop_on_short_page):
            return None
        if p.total_path is not None:
            total = find_one(p.total_path, body)
            if isinstance(total, int | float) and (position.page - p.base + 1) * p.size >= total:
                return None
        return Position(page=position.page + 1)
    if isinstance(p, OffsetPagination):
        if _is_last_by_size(n, p.limit, p.stop_on_short_page):
            return None
        offset = (position.offset or 0) + n
        if p.total_path is not None:
            total = find_one(p.total_path, body)
            if isinstance(total, int | float) and offset >= total and not p.safe_mode:
                return None
        if p.safe_mode:
            assert defn.checkpoint is not None
            return _keyset_next(defn, position, values, offset)
        return Position(offset=offset)
    if isinstance(p, CursorPagination):
        if p.has_more_path is not None and find_one(p.has_more_path, body) is False:
            return None
        token = find_one(p.cursor_path, body)
        if token in (None, "") or str(token) == position.cursor:
            return None
        return Position(cursor=str(token))
    if isinstance(p, NextUrlPagination):
        nxt = find_one(p.next_url_path, body)
        if not nxt:
            return None
        return Position(url=urljoin(str(response.request.url), str(nxt)))
    if isinstance(p, LinkHeaderPagination):
        link = response.links.get(p.rel)
        if not link or not link.get("url"):
            return None
        return Position(url=urljoin(str(response.request.url), link["url"]))
    raise AssertionError(f"unknown pagination {p!r}")


def _keyset_next(
    defn: FetchDefinition, position: Position, values: list[CheckpointValue], offset: int
) -> Position:
    assert defn.checkpoint is not None
    ck = defn.checkpoint
    top = values[0]
    for v in values[1:]:
        top = cp.later(ck, top, v) or top
    at_top = sum(1 for v in values if cp.sort_key(ck, v) == cp.sort_key(ck, top))
    # A page that never left the boundary value must skip past it too, or it would be read forever.
    same = position.keyset is not None and cp.sort_key(ck, position.keyset) == cp.sort_key(ck, top)
    return Position(offset=offset, keyset=top, skip=at_top + (position.skip if same else 0))


def select_records(expr: str, body: Any) -> list[Any]:
    found = find_all(expr, body)
    # `$.elements` and `$.elements[*]` both mean "the list of records".
    if len(found) == 1 and isinstance(found[0], list):
        return list(found[0])
    return found
