"""How the platform lists tags, read in one place for every feature that decides on them
(Signal rules, Touchpoint sync, related links), so that they all see the same tags.

With `includeList=tags` the platform lists each object's tags as `{"tagId", "name",
"label"}` (the emulator's shape; the public API documentation gives none). `name` is the tag's
identity, what definitions name (`Signal: Registered`); `label` is its display text and defaults
to the name. A tag object without a `name` is read by its `label`, and a bare string is a name,
because an unconfirmed shape must not make a tag vanish: a rule would skip the record, or the
Touchpoint sync drop the attendee, without a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def tag_names(raw: Any) -> tuple[str, ...]:
    """The names of the tags in one `tags` list, in order; anything that is not a list is none."""
    if not isinstance(raw, list):
        return ()
    out: list[str] = []
    for tag in raw:
        if isinstance(tag, str):
            name: Any = tag
        elif isinstance(tag, Mapping):
            name = tag.get("name") or tag.get("label")
        else:
            continue
        if isinstance(name, str) and name:
            out.append(name)
    return tuple(out)
