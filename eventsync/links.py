"""The first link in a field value, for Touchpoint session related links.

A session custom field tagged `Touchpoint: Related Link` holds free text: HTML from the
platform's rich-text editor, Markdown, or a bare URL. Only its FIRST link counts (one link
per field). The title is the link text (the URL when there is none); only http and https
URLs are accepted, and a first link with any other scheme is refused with a reason rather
than replaced by a later link, so that a user sees why their field did not sync.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Link", "LinkResult", "first_link"]

# A field is free text from whoever edits sessions: every scan below is linear in its length
# (no pattern can run on past the next `<`, and an anchor's closing tag is looked up once), and a
# field longer than this is read only this far: the first link is near the top of any real field,
# and a 120 KB value once held the worker for 35 s per attempt.
MAX_FIELD = 65_536
# Titles are shown short (Touchpoint's limit is 200); markup is stripped from this much of the
# link text only, since Markdown emphasis matching is quadratic in the text it is given.
MAX_TITLE_SOURCE = 1_000

# Each form is found by position; the earliest start wins. Anchors: attributes in any order,
# href quoted with " or ' or unquoted; the text may hold nested markup, up to the first `</a>`.
_ANCHOR_OPEN = re.compile(r"""<a\b(?P<attrs>[^<>]*)>""", re.IGNORECASE)
_ANCHOR_CLOSE = re.compile(r"""</a\s*>""", re.IGNORECASE)
_HREF = re.compile(r"""\bhref\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^\s>]+))""", re.IGNORECASE)
# [text](url "optional title"); the URL may hold one level of balanced parentheses
# (Wikipedia-style links) and may be wrapped in <...>.
_MARKDOWN = re.compile(
    r"""(?<!!)\[(?P<text>(?:[^\[\]\\]|\\.)*)\]\(\s*(?:<(?P<aurl>[^>]*)>|(?P<url>(?:[^\s()]|\([^\s()]*\))+))"""
    r"""(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)""",
    re.DOTALL,
)
# A bare or <autolinked> URL. Plain text such as "javascript:..." is not a link anyone can click,
# so bare detection takes web and file-transfer URLs (`scheme://`) only: http(s) are used, the
# others (ftp, sftp, ftps, file) are found so that they are refused visibly, not skipped.
_BARE = re.compile(r"""(?P<url>\b(?:https?|s?ftps?|file)://[^\s<>"']+)""", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`|~~)(?=\S)(.+?)(?<=\S)\1", re.DOTALL)
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~|])")
_SPACE = re.compile(r"\s+")
# Browsers (WHATWG URL parsing) drop tabs and newlines anywhere in a URL and C0 controls or
# spaces at its ends, so "java\tscript:" is still javascript:.
_URL_NOISE = re.compile(r"[\t\n\r]")
_URL_ENDS = "".join(chr(c) for c in range(0x21))
_TRAILING = ".,;:!?'\"*_~"


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class LinkResult:
    """`link` when the first link is usable; otherwise `reason` says why there is none."""

    link: Link | None
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.link is not None


def _clean_title(text: str) -> str:
    text = _TAG.sub("", text)
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


def _clean_markdown_title(text: str) -> str:
    text = _TAG.sub("", text)
    for _ in range(3):  # nested emphasis such as ***x***
        text = _MD_EMPHASIS.sub(r"\2", text)
    text = _MD_ESCAPE.sub(r"\1", text)
    return _SPACE.sub(" ", html.unescape(text)).strip()


def _trim_bare(url: str) -> str:
    # Trailing punctuation belongs to the sentence, and a closing parenthesis only when unbalanced.
    while url:
        if url[-1] in _TRAILING:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url


def _check_url(raw: str) -> tuple[str | None, str | None]:
    url = _URL_NOISE.sub("", html.unescape(raw)).strip(_URL_ENDS).replace(" ", "%20")
    if not url:
        return None, "the first link has an empty URL"
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        return None, f"the first link's URL is malformed ({exc})"
    scheme = parts.scheme.lower()
    if scheme in ("javascript", "data", "vbscript"):
        return None, f"the first link uses a {scheme}: URL, which is refused (only http and https)"
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "a relative"
        return None, f"the first link uses {shown} URL {url[:80]!r}; only http and https are accepted"
    if not parts.hostname:
        return None, f"the first link's URL {url[:80]!r} has no host"
    return url, None


def _first_anchor(text: str) -> tuple[int, str, str] | None:
    """Start, href and inner text of the first `<a …>` with an href and a closing `</a>`."""
    pos = 0
    close: re.Match[str] | None = None
    while (opening := _ANCHOR_OPEN.search(text, pos)) is not None:
        if close is None or close.start() < opening.end():
            close = _ANCHOR_CLOSE.search(text, opening.end())
            if close is None:
                return None  # no anchor after this one can close either
        # An anchor without href (a named anchor) is not a link: look further.
        if (href := _HREF.search(opening.group("attrs"))) is not None:
            raw = (
                href.group("dq")
                if href.group("dq") is not None
                else href.group("sq") or href.group("uq") or ""
            )
            return opening.start(), raw, text[opening.end() : close.start()]
        pos = opening.end()
    return None


def first_link(value: object) -> LinkResult:
    """The first link in `value` (HTML anchor, Markdown link or bare URL), as title and URL."""
    if value is None:
        return LinkResult(None, "the field is empty")
    if not isinstance(value, str):
        return LinkResult(None, f"the field holds {type(value).__name__}, not text")
    if not value.strip():
        return LinkResult(None, "the field is empty")

    cut = len(value) > MAX_FIELD
    text = value[:MAX_FIELD]
    candidates: list[tuple[int, str, str, str]] = []  # start, form, raw URL, raw title
    if (anchor := _first_anchor(text)) is not None:
        candidates.append((anchor[0], "html", anchor[1], anchor[2]))
    if (md := _MARKDOWN.search(text)) is not None:
        raw = md.group("aurl") if md.group("aurl") is not None else md.group("url")
        candidates.append((md.start(), "markdown", raw, md.group("text")))
    if (bare := _BARE.search(text)) is not None:
        if cut and bare.end() == len(text):
            return LinkResult(
                None, f"the first link runs past the first {MAX_FIELD:,} characters of the field"
            )
        candidates.append((bare.start(), "bare", _trim_bare(bare.group("url")), ""))
    if not candidates:
        if cut:
            return LinkResult(
                None, f"no link in the first {MAX_FIELD:,} characters of the field ({len(value):,})"
            )
        return LinkResult(None, "the field holds no link")
    # Earliest wins; at the same position an anchor or Markdown link beats the bare URL inside it.
    _, form, raw, raw_title = min(candidates, key=lambda c: (c[0], c[1] == "bare"))
    title = {"html": _clean_title, "markdown": _clean_markdown_title}.get(form, lambda t: t)(
        raw_title[:MAX_TITLE_SOURCE]
    )
    url, reason = _check_url(raw.strip())
    if url is None:
        return LinkResult(None, reason)
    return LinkResult(Link(title=title or url, url=url))
