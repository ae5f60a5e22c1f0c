"""The session link set: tagged fields only, layout order, first link per field, reasons."""

from __future__ import annotations

from typing import Any

from eventsync.touchpoint.links import MAX_LINKS, related_links

TAG = "Touchpoint: Related Link"


def field(fid: int, name: str, pos: int, value: Any, tagged: bool = True) -> dict[str, Any]:
    return {
        "fieldId": fid,
        "name": name,
        "position": pos,
        "value": value,
        "tags": [{"name": TAG}] if tagged else [],
    }


def test_order_is_position_then_field_id_not_name_or_list_order() -> None:
    s = {
        "customFields": [
            field(9, "A", 2, "https://ex.com/a"),
            field(3, "Z", 1, "https://ex.com/z"),
            field(2, "M", 2, "https://ex.com/m"),
        ]
    }
    assert [link.url for link in related_links(s, TAG).links] == [
        "https://ex.com/z",
        "https://ex.com/m",
        "https://ex.com/a",
    ]


def test_each_form_and_only_the_first_link_of_a_field() -> None:
    s = {
        "customFields": [
            field(1, "html", 1, "<a href='https://ex.com/1'>One</a> <a href='https://ex.com/x'>x</a>"),
            field(2, "md", 2, "[Two](https://ex.com/2) and https://ex.com/y"),
            field(3, "bare", 3, "see https://ex.com/3. then https://ex.com/z"),
        ]
    }
    got = [(link.title, link.url) for link in related_links(s, TAG).links]
    assert got == [
        ("One", "https://ex.com/1"),
        ("Two", "https://ex.com/2"),
        ("https://ex.com/3", "https://ex.com/3"),
    ]


def test_untagged_empty_and_refused_fields() -> None:
    s = {
        "customFields": [
            field(1, "untagged", 1, "https://ex.com/u", tagged=False),
            field(2, "empty", 2, ""),
            field(3, "none", 3, None),
            field(4, "text", 4, "no link here"),
            field(5, "js", 5, '<a href="javascript:alert(1)">x</a> https://ex.com/later'),
            field(6, "ftp", 6, "[f](ftp://ex.com/f)"),
        ]
    }
    ls = related_links(s, TAG)
    assert ls.links == ()
    assert [n.name for n in ls.notes] == ["empty", "none", "text", "js", "ftp"]
    assert [n.name for n in ls.refused] == ["js", "ftp"]
    assert "javascript:" in str(ls.refused[0]) and "ftp:" in str(ls.refused[1])


def test_limits_long_title_and_too_many_links() -> None:
    fields = [field(i, f"f{i}", i, f"[{'T' * 300}](https://ex.com/{i})") for i in range(1, MAX_LINKS + 3)]
    ls = related_links({"customFields": fields}, TAG)
    assert len(ls.links) == MAX_LINKS
    assert all(len(link.title) == 200 and link.title.endswith("…") for link in ls.links)
    assert len(ls.refused) == 2 and "at most 20" in ls.refused[0].reason


def test_tag_name_is_configurable_and_plain_string_tags_work() -> None:
    s = {
        "customFields": [
            {"fieldId": 1, "position": 1, "name": "x", "value": "https://ex.com", "tags": ["Mine"]}
        ]
    }
    assert len(related_links(s, "Mine").links) == 1
    assert related_links(s, TAG).links == ()
