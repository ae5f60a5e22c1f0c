"""A session's related links: one per custom field tagged `Touchpoint: Related Link`.

**Order (stable, documented):** the session's custom fields in the platform's layout order:
ascending `position`, then ascending `fieldId` for equal positions. Field names play no part,
so renaming a field keeps its link where it was.

**Per field:** the first link in the value (HTML anchor, Markdown link or bare URL;
`eventsync.links.first_link`) gives title and URL; an empty field (or one without a link)
gives no link, so emptying a field removes its link; a first link that is not http(s) is
refused with a reason (a later link in the field does not stand in for it).

The result is the *whole* list: Touchpoint's PUT replaces the session's list with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eventsync.links import Link, first_link
from eventsync.platform.tags import tag_names

MAX_LINKS = 20  # docs/touchpoint-api.md
MAX_TITLE = 200
MAX_URL = 2048


@dataclass(frozen=True)
class FieldNote:
    """Why a tagged field gave no link."""

    field_id: Any
    name: str
    reason: str
    refused: bool  # True: the field holds a link we will not send (visible as a problem)

    def __str__(self) -> str:
        return f"field {self.name!r} (id {self.field_id}): {self.reason}"


@dataclass(frozen=True)
class LinkSet:
    links: tuple[Link, ...]
    notes: tuple[FieldNote, ...] = field(default_factory=tuple)

    @property
    def refused(self) -> tuple[FieldNote, ...]:
        return tuple(n for n in self.notes if n.refused)

    def as_body(self) -> list[dict[str, str]]:
        return [{"title": link.title, "url": link.url} for link in self.links]


def _order_key(f: Mapping[str, Any]) -> tuple[float, str]:
    pos = f.get("position")
    try:
        p = float(pos) if pos is not None else float("inf")
    except (TypeError, ValueError):
        p = float("inf")
    fid = f.get("fieldId")
    # numbers sort numerically (zero-padded); other ids after them, as text
    key = (
        f"{int(fid):020d}" if isinstance(fid, int) or (isinstance(fid, str) and fid.isdigit()) else f"~{fid}"
    )
    return p, key


def _title(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def related_links(session: Mapping[str, Any], tag: str) -> LinkSet:
    """The links Touchpoint should show for this session (its record with `includeList=tags`)."""
    raw = session.get("customFields")
    fields = [f for f in raw if isinstance(f, Mapping)] if isinstance(raw, list) else []
    tagged = [f for f in fields if tag in tag_names(f.get("tags"))]
    links: list[Link] = []
    notes: list[FieldNote] = []
    for f in sorted(tagged, key=_order_key):
        fid, name = f.get("fieldId"), str(f.get("name") or "")
        result = first_link(f.get("value"))
        if result.link is None:
            reason = result.reason or "no link"
            empty = reason in ("the field is empty", "the field holds no link")
            notes.append(FieldNote(fid, name, reason, refused=not empty))
            continue
        if len(result.link.url) > MAX_URL:
            notes.append(FieldNote(fid, name, f"the first link's URL is over {MAX_URL} characters", True))
            continue
        if len(links) >= MAX_LINKS:
            notes.append(
                FieldNote(fid, name, f"Touchpoint takes at most {MAX_LINKS} links per session", True)
            )
            continue
        links.append(Link(title=_title(result.link.title), url=result.link.url))
    return LinkSet(tuple(links), tuple(notes))
