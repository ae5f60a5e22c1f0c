"""First-link extraction for Touchpoint related links."""

from __future__ import annotations

import pytest

from eventsync.links import Link, first_link


@pytest.mark.parametrize(
    ("value", "title", "url"),
    [
        # HTML anchors
        ('<a href="https://ex.com/slides">Slides</a>', "Slides", "https://ex.com/slides"),
        ("<a href='http://ex.com'>Site</a>", "Site", "http://ex.com"),
        ("<A HREF=https://ex.com/x class=btn>Go</A>", "Go", "https://ex.com/x"),
        ('<a target="_blank" href="https://ex.com" rel="noopener">New tab</a>', "New tab", "https://ex.com"),
        # nested markup stripped from the title, whitespace collapsed
        (
            '<p><a href="https://ex.com"><span><b>Keynote</b>\n  <i>deck</i></span></a></p>',
            "Keynote deck",
            "https://ex.com",
        ),
        # HTML entities decoded in title and URL
        (
            '<a href="https://ex.com/?a=1&amp;b=2">Q&amp;A &ndash; &quot;live&quot; &#x263A;</a>',
            'Q&A – "live" ☺',
            "https://ex.com/?a=1&b=2",
        ),
        # no anchor text: the title is the URL
        ('<a href="https://ex.com/empty"></a>', "https://ex.com/empty", "https://ex.com/empty"),
        ('<a href="https://ex.com/img"><img src="x.png"></a>', "https://ex.com/img", "https://ex.com/img"),
        # a named anchor without href is not a link
        ('<a name="top">Top</a> <a href="https://ex.com">Real</a>', "Real", "https://ex.com"),
        # Markdown links
        ("[Session recording](https://ex.com/rec)", "Session recording", "https://ex.com/rec"),
        ("See [**Deck** _v2_](https://ex.com/deck).", "Deck v2", "https://ex.com/deck"),
        ('[Doc](https://ex.com/doc "The doc")', "Doc", "https://ex.com/doc"),
        (
            "[Wiki](https://en.wikipedia.org/wiki/Foo_(bar))",
            "Wiki",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
        ),
        ("[Spaced](<https://ex.com/a b>)", "Spaced", "https://ex.com/a%20b"),
        ("[AT&amp;T](https://ex.com)", "AT&T", "https://ex.com"),
        ("[](https://ex.com/none)", "https://ex.com/none", "https://ex.com/none"),
        # bare URLs
        ("https://ex.com/page", "https://ex.com/page", "https://ex.com/page"),
        ("Join us at https://ex.com/live. See you!", "https://ex.com/live", "https://ex.com/live"),
        ("(details: https://ex.com/d)", "https://ex.com/d", "https://ex.com/d"),
        ("<https://ex.com/auto>", "https://ex.com/auto", "https://ex.com/auto"),
        ("x https://ex.com/?q=1&amp;r=2 y", "https://ex.com/?q=1&r=2", "https://ex.com/?q=1&r=2"),
    ],
)
def test_each_link_form(value: str, title: str, url: str) -> None:
    result = first_link(value)
    assert result.link == Link(title=title, url=url), result.reason
    assert result and result.reason is None


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ('<a href="https://first.com">1</a> [2](https://second.com) https://third.com', "https://first.com"),
        ('[1](https://first.com) <a href="https://second.com">2</a>', "https://first.com"),
        ('https://first.com then <a href="https://second.com">2</a>', "https://first.com"),
        (
            '<p>Intro</p><a href="https://first.com">1</a><a href="https://second.com">2</a>',
            "https://first.com",
        ),
    ],
)
def test_only_the_first_link_counts(value: str, url: str) -> None:
    result = first_link(value)
    assert result.link is not None and result.link.url == url


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('<a href="javascript:alert(1)">Click</a> https://ok.com', "javascript:"),
        ('<a href="JavaScript:alert(1)">x</a>', "javascript:"),
        ('<a href="  java\tscript:alert(1)">x</a>', "javascript:"),
        ('<a href="jav&#x61;script:alert(1)">x</a>', "javascript:"),
        ("[x](javascript:alert(1))", "javascript:"),
        ("[x](data:text/html;base64,PHNjcmlwdD4=)", "data:"),
        ('<a href="data:text/html,hi">x</a>', "data:"),
        ('<a href="vbscript:x">x</a>', "vbscript:"),
        ('<a href="mailto:a@b.com">mail</a>', "only http and https"),
        ('<a href="ftp://ex.com/f">f</a>', "only http and https"),
        ('<a href="/relative/path">r</a>', "relative"),
        ('<a href="">x</a>', "empty URL"),
        ('<a href="https://">x</a>', "no host"),
        ("no links here", "no link"),
        ("", "empty"),
        ("   ", "empty"),
        (None, "empty"),
        (42, "int"),
    ],
)
def test_refused_or_absent_links_say_why(value: object, reason: str) -> None:
    result = first_link(value)
    assert result.link is None and not result
    assert result.reason is not None and reason in result.reason


def test_a_refused_first_link_is_not_replaced_by_a_later_one() -> None:
    result = first_link('<a href="javascript:void(0)">menu</a> <a href="https://ok.com">ok</a>')
    assert result.link is None and result.reason is not None and "refused" in result.reason


def test_a_bare_ftp_link_is_refused_visibly_not_skipped() -> None:
    # Skipping it would let the field's second link stand in for the first one.
    got = first_link("slides: ftp://files.ex.com/deck.pdf, or https://ex.com/deck")
    assert got.link is None and got.reason is not None
    assert "ftp:" in got.reason and "only http and https" in got.reason
    assert first_link("sftp://host/x").link is None and first_link("file:///etc/passwd").link is None


# Shapes that once took 10–100 s each (a regex scan from every `<a` or `*` to the end of the
# field). They must give the same answers as short fields do; how fast they are is measured by
# `python -m benchmarks.links`.
HOSTILE = [
    ("<a name='x'>" * 4000 + '<a href="https://ex.com/late">Late</a>', "https://ex.com/late", "Late"),
    ("<a " * 20000 + "https://ex.com/bare", "https://ex.com/bare", "https://ex.com/bare"),
    ("[" + "*a " * 20000 + "](https://ex.com/md)", "https://ex.com/md", None),
    ("[" + "<" * 60000 + "](https://ex.com/lt)", "https://ex.com/lt", None),
]


@pytest.mark.parametrize(("value", "url", "title"), HOSTILE, ids=["anchors", "open-tags", "emphasis", "lt"])
def test_hostile_fields_give_the_same_answers(value: str, url: str, title: str | None) -> None:
    result = first_link(value)
    assert result.link is not None and result.link.url == url, result.reason
    if title is not None:
        assert result.link.title == title
    assert len(result.link.title) <= 1_000


def test_a_field_longer_than_the_cap_is_read_that_far_and_says_so() -> None:
    from eventsync.links import MAX_FIELD

    early = '<a href="https://ex.com/early">Early</a>' + "x" * (2 * MAX_FIELD)
    assert first_link(early).link == Link(title="Early", url="https://ex.com/early")
    late = "x" * MAX_FIELD + " https://ex.com/late"
    result = first_link(late)
    assert result.link is None and result.reason is not None
    assert f"no link in the first {MAX_FIELD:,} characters" in result.reason
    cut = "x " + "https://ex.com/" + "a" * MAX_FIELD
    reason = first_link(cut).reason or ""
    assert "runs past the first" in reason
