"""Charts as inline SVG, drawn on the server: the dashboard needs no script and no CDN.

Every mark carries `data-series` and `data-count` so tests (and people with devtools) can read
what a chart shows without reading pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 640, 180
PAD_L, PAD_R, PAD_T, PAD_B = 36, 8, 10, 22

COLORS = {
    "received": "#6b7280",
    "activated": "#2563eb",
    "delivered": "#16a34a",
    "skipped": "#ca8a04",
    "parked": "#dc2626",
    "discarded": "#7c3aed",
    "duplicates": "#9ca3af",
    "pages": "#0891b2",
    "fetched": "#6b7280",
    "applied": "#16a34a",
    "rejected": "#dc2626",
}


def _hhmm(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%H:%M")


def bar_chart(
    title: str,
    slots: Sequence[float],
    rows: Sequence[dict[str, int]],
    series: Sequence[str],
    slot_label: str = "minute (UTC)",
) -> str:
    """Grouped bars: one group per slot (a minute, or a run), one bar per series."""
    n = max(1, len(slots))
    peak = max([r.get(s, 0) for r in rows for s in series] + [1])
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B
    group_w = plot_w / n
    bar_w = max(1.0, group_w * 0.8 / len(series))
    out = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" data-chart="{escape(title)}">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<line x1="{PAD_L}" y1="{PAD_T + plot_h}" x2="{WIDTH - PAD_R}" y2="{PAD_T + plot_h}" stroke="#9ca3af"/>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + 8}" font-size="10" text-anchor="end">{peak}</text>',
        f'<text x="{PAD_L - 4}" y="{PAD_T + plot_h}" font-size="10" text-anchor="end">0</text>',
    ]
    for i, (t, row) in enumerate(zip(slots, rows, strict=True)):
        x0 = PAD_L + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            v = row.get(s, 0)
            if v <= 0:
                continue
            h = max(1.0, plot_h * v / peak)
            out.append(
                f'<rect x="{x0 + j * bar_w:.1f}" y="{PAD_T + plot_h - h:.1f}" width="{bar_w:.1f}" '
                f'height="{h:.1f}" fill="{COLORS.get(s, "#111827")}" data-series="{s}" data-count="{v}" '
                f'data-t="{t:.0f}"><title>{escape(s)} {v} at {_hhmm(t)}</title></rect>'
            )
    if slots:
        out.append(f'<text x="{PAD_L}" y="{HEIGHT - 6}" font-size="10">{_hhmm(slots[0])}</text>')
        out.append(
            f'<text x="{WIDTH - PAD_R}" y="{HEIGHT - 6}" font-size="10" text-anchor="end">'
            f"{_hhmm(slots[-1])} · per {escape(slot_label)}</text>"
        )
    out.append("</svg>")
    legend = " ".join(
        f'<span class="key"><i style="background:{COLORS.get(s, "#111827")}"></i>{escape(s)}</span>'
        for s in series
    )
    return f"<figure><figcaption>{escape(title)} {legend}</figcaption>{''.join(out)}</figure>"


SPARKS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """The terminal's chart: one block character per slot, height by value."""
    peak = max(list(values) + [0])
    if peak == 0:
        return "·" * len(values)
    return "".join(SPARKS[0] if v == 0 else SPARKS[max(1, round(8 * v / peak))] for v in values)
