"""The fetch engine's pure parts: templates, checkpoint values, pagination decisions, definitions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from eventsync.definitions.fetches import Checkpoint, FetchDefinition
from eventsync.fetch import checkpoint as cp
from eventsync.fetch import pagination, templating
from eventsync.fetch.models import Counts, Position, Rejection


def _defn(**over: Any) -> FetchDefinition:
    base: dict[str, Any] = {
        "name": "f",
        "request": {"connection": "src", "path": "/items?since={{since}}"},
        "checkpoint": {
            "field": "$.updatedAt",
            "initial": 0,
            "variable": "since",
            "format": "epoch",
            "sorted": True,
        },
        "target": {"kind": "http", "connection": "sink", "path": "/in"},
    }
    base.update(over)
    return FetchDefinition.model_validate(base)


def _resp(url: str = "http://src/items", headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(200, headers=headers, request=httpx.Request("GET", url))


# templating


def test_render_fills_variables_and_names_unknown_ones() -> None:
    assert (
        templating.render("/c?p={{page}}&d={{ depth }}", {"page": 2, "depth": "minimal"})
        == "/c?p=2&d=minimal"
    )
    with pytest.raises(
        templating.TemplateError, match=r"request.path: unknown variable \{\{pgae\}\} \(known: page\)"
    ):
        templating.render("{{pgae}}", {"page": 1}, "request.path")


def test_render_value_keeps_types_of_whole_leaf_variables() -> None:
    body = {"page": "{{page}}", "q": "x>{{since}}", "nested": [{"c": "{{cursor}}"}]}
    assert templating.render_value(body, {"page": 3, "since": 5, "cursor": "abc"}) == {
        "page": 3,
        "q": "x>5",
        "nested": [{"c": "abc"}],
    }


def test_record_fields_in_lookup_templates() -> None:
    assert templating.render("/contacts/{{record.id}}", {"record": {"id": 7}}) == "/contacts/7"
    with pytest.raises(templating.TemplateError, match="has no field 'nope'"):
        templating.render("{{record.nope}}", {"record": {"id": 7}})


# checkpoint values


def test_datetime_checkpoint_canonical_forms_and_rendering() -> None:
    ck = Checkpoint(field="$.t", initial=0, format="epoch")
    assert cp.canonical(ck, "2026-01-01T00:00:00Z") == "2026-01-01T00:00:00+00:00"
    assert cp.canonical(ck, 1767225600) == "2026-01-01T00:00:00+00:00"
    assert cp.canonical(ck, "1767225600") == "2026-01-01T00:00:00+00:00"
    assert cp.render(ck, "2026-01-01T00:00:00+00:00") == 1767225600
    iso = Checkpoint(field="$.t", initial=0)
    assert cp.render(iso, "2026-01-01T00:00:00+00:00") == "2026-01-01T00:00:00Z"
    with pytest.raises(cp.CheckpointError, match="record 3"):
        cp.canonical(ck, "yesterday", "record 3")


def test_lower_bound_steps_back_for_strict_filters_and_lookback() -> None:
    strict = Checkpoint(field="$.t", initial=0, operator=">", step=1)
    assert cp.lower_bound(strict, "2026-01-01T00:00:10+00:00") == "2026-01-01T00:00:09+00:00"
    inclusive = Checkpoint(field="$.t", initial=0, operator=">=", lookback=3600)
    assert cp.lower_bound(inclusive, "2026-01-01T01:00:00+00:00") == "2026-01-01T00:00:00+00:00"
    number = Checkpoint(field="$.n", type="number", initial=0, operator=">")
    assert cp.lower_bound(number, 10) == 9


def test_later_compares_datetimes_as_instants_not_strings() -> None:
    ck = Checkpoint(field="$.t", initial=0)
    a, b = "2026-01-01T10:00:00+00:00", "2026-01-01T09:00:00+00:00"
    assert cp.later(ck, a, b) == a and cp.later(ck, None, b) == b


# pagination


def test_page_number_prepares_and_stops_on_short_page_or_total() -> None:
    d = _defn(
        pagination={
            "style": "page_number",
            "base": 1,
            "size": 2,
            "page_param": "page",
            "total_path": "$.total",
        }
    )
    req = pagination.prepare(d, pagination.first_position(d), None)
    assert req.url == "/items?since=0&page=1"
    assert pagination.advance(d, Position(page=1), _resp(), {"total": 5}, 2, ["a", "b"]) == Position(page=2)
    assert pagination.advance(d, Position(page=3), _resp(), {"total": 5}, 1, ["a"]) is None
    assert pagination.advance(d, Position(page=2), _resp(), {"total": 4}, 2, ["a", "b"]) is None


def test_offset_advances_by_records_read() -> None:
    d = _defn(pagination={"style": "offset", "limit": 3})
    assert pagination.prepare(d, Position(offset=6), None).url == "/items?since=0&offset=6&limit=3"
    assert pagination.advance(d, Position(offset=6), _resp(), {}, 3, ["a"] * 3) == Position(offset=9)
    assert pagination.advance(d, Position(offset=9), _resp(), {}, 0, []) is None


def test_keyset_safe_mode_restarts_at_the_page_top_and_skips_what_it_read() -> None:
    d = _defn(pagination={"style": "offset", "limit": 4, "safe_mode": True})
    t = [f"2026-01-01T00:00:0{i}+00:00" for i in range(4)]
    nxt = pagination.advance(d, Position(offset=0), _resp(), {}, 4, [t[0], t[1], t[1], t[2]])
    assert nxt == Position(offset=4, keyset=t[2], skip=1)
    req = pagination.prepare(d, nxt, None)
    assert req.url == "/items?since=1767225602&offset=1&limit=4"
    # A page that never leaves the boundary value keeps counting past it (no endless loop).
    again = pagination.advance(d, nxt, _resp(), {}, 4, [t[2]] * 4)
    assert again == Position(offset=8, keyset=t[2], skip=5)


def test_safe_mode_needs_a_sorted_checkpoint() -> None:
    with pytest.raises(ValidationError, match="safe_mode needs a checkpoint with `sorted: true`"):
        _defn(
            pagination={"style": "offset", "safe_mode": True},
            checkpoint={"field": "$.t", "initial": 0},
        )


def test_cursor_in_query_or_body_and_stop_on_missing_or_repeated_token() -> None:
    d = _defn(pagination={"style": "cursor", "cursor_path": "$.cursors.next", "cursor_param": "after"})
    assert pagination.prepare(d, Position(), None).url == "/items?since=0"
    assert pagination.prepare(d, Position(cursor="xyz"), None).url == "/items?since=0&after=xyz"
    assert pagination.advance(d, Position(), _resp(), {"cursors": {"next": "c1"}}, 1, ["a"]) == Position(
        cursor="c1"
    )
    assert (
        pagination.advance(d, Position(cursor="c1"), _resp(), {"cursors": {"next": "c1"}}, 1, ["a"]) is None
    )
    assert pagination.advance(d, Position(), _resp(), {"cursors": {"next": None}}, 1, ["a"]) is None
    body = _defn(
        request={"connection": "src", "method": "POST", "path": "/q", "body": {"size": 10}},
        pagination={
            "style": "cursor",
            "cursor_path": "$.next",
            "cursor_param": None,
            "cursor_body_path": "page.token",
        },
    )
    assert pagination.prepare(body, Position(cursor="t"), None).json == {"size": 10, "page": {"token": "t"}}


def test_next_url_and_link_header_resolve_relative_links() -> None:
    d = _defn(pagination={"style": "next_url", "next_url_path": "$.links.next"})
    nxt = pagination.advance(
        d, Position(), _resp("http://src/a/items?x=1"), {"links": {"next": "items?p=2"}}, 1, ["a"]
    )
    assert nxt == Position(url="http://src/a/items?p=2")
    assert pagination.prepare(d, nxt, None).url == "http://src/a/items?p=2"
    link = _defn(pagination={"style": "link_header"})
    resp = _resp(
        headers={"Link": '<http://src/items?page=3>; rel="next", <http://src/items?page=9>; rel="last"'}
    )
    assert pagination.advance(link, Position(), resp, [], 1, ["a"]) == Position(url="http://src/items?page=3")
    assert (
        pagination.advance(link, Position(), _resp(headers={"Link": '<x>; rel="last"'}), [], 1, ["a"]) is None
    )


def test_record_selector_accepts_a_list_path_or_a_wildcard() -> None:
    body = {"elements": [{"id": 1}, {"id": 2}]}
    assert pagination.select_records("$.elements", body) == body["elements"]
    assert pagination.select_records("$.elements[*]", body) == body["elements"]


def test_definition_errors_name_the_problem() -> None:
    with pytest.raises(ValidationError, match="cannot be stepped back"):
        _defn(checkpoint={"field": "$.id", "type": "string", "initial": "", "operator": ">"})
    with pytest.raises(ValidationError, match="exactly one of `cron` or `every_s`"):
        _defn(schedule={"time_zone": "UTC"})
    with pytest.raises(ValidationError, match="extra"):
        _defn(paginaton={"style": "none"})


def test_counts_keep_a_capped_sample_of_rejections() -> None:
    total = Counts()
    for _ in range(3):
        total.add(
            Counts(pages=1, fetched=40, applied=10, rejected=30, rejections=[Rejection(reason="x")] * 30)
        )
    assert (total.pages, total.fetched, total.applied, total.rejected) == (3, 120, 30, 90)
    assert len(total.rejections) == 50
