"""Related-link extraction on hostile session fields: milliseconds per field, by shape and size.

    .venv/bin/python -m benchmarks.links [--sizes 10000,60000,120000] [--uncapped]

A session custom field is free text from whoever edits sessions. Each shape here once made the
extraction scan from every opening `<a`, `<` or `*` to the end of the field (quadratic: a 120 KB
field held the worker 35 s per attempt). `--uncapped` lifts MAX_FIELD to show that the scans
themselves are linear, not only cut short.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import eventsync.links as links

SHAPES: dict[str, Callable[[int], str]] = {
    "unclosed anchors": lambda n: "<a href='x'>" * (n // 12),
    "open tags": lambda n: "<a " * (n // 3),
    "named anchors": lambda n: "<a name=x>y</a>" * (n // 15),
    "emphasis in a title": lambda n: "[" + "*a " * (n // 3) + "](https://ex.com)",
    "less-thans in a title": lambda n: "[" + "<" * n + "](https://ex.com)",
    "markdown openings": lambda n: "[a](" * (n // 4),
    "plain text": lambda n: "lorem ipsum " * (n // 12),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,60000,120000")
    ap.add_argument("--uncapped", action="store_true")
    a = ap.parse_args()
    if a.uncapped:
        links.MAX_FIELD = 10**9
    for size in (int(s) for s in a.sizes.split(",")):
        for name, make in SHAPES.items():
            value = make(size)
            t = time.perf_counter()
            result = links.first_link(value)
            ms = (time.perf_counter() - t) * 1000
            print(json.dumps({"shape": name, "chars": len(value), "ms": round(ms, 2),
                              "link": bool(result.link), "reason": result.reason}))  # fmt: skip


if __name__ == "__main__":
    main()
