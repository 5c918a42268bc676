"""Server-rendered SVG charts: plain geometry for a template, no JavaScript, no CDN."""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

WIDTH, BAR_HEIGHT, GAP, LABEL = 560, 18, 6, 150


def stacked_bars(rows: Sequence[tuple[str, Decimal, Decimal]]) -> dict:
    """Horizontal bars of (label, red, yellow), scaled to the largest red + yellow."""
    top = max((float(r + y) for _, r, y in rows), default=0.0) or 1.0
    span = WIDTH - LABEL - 90
    bars = []
    for i, (label, red, yellow) in enumerate(rows):
        w_red = float(red) / top * span
        w_yellow = float(yellow) / top * span
        bars.append(
            {
                "label": label,
                "y": i * (BAR_HEIGHT + GAP),
                "text_y": i * (BAR_HEIGHT + GAP) + BAR_HEIGHT - 4,
                "x_red": LABEL,
                "w_red": round(w_red, 1),
                "x_yellow": round(LABEL + w_red, 1),
                "w_yellow": round(w_yellow, 1),
                "x_value": round(LABEL + w_red + w_yellow + 4, 1),
                "value": red + yellow,
            }
        )
    return {
        "width": WIDTH,
        "height": max(1, len(rows)) * (BAR_HEIGHT + GAP),
        "bar_height": BAR_HEIGHT,
        "label_x": LABEL - 6,
        "bars": bars,
    }


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and up to ``count`` round steps (1, 2, 2.5 or 5 × 10ⁿ) reaching at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def compact_money(value: float) -> str:
    """An axis label: 0, 250k, 1.5M."""
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def line(points: Sequence[tuple[str, Decimal]], height: int = 160) -> dict:
    """A polyline of (label, value) points left to right, on a y-axis of round ticks from 0
    (labelled in compact money) and an x-axis with the first, middle and last labels."""
    ticks = nice_ticks(max((float(v) for _, v in points), default=0.0))
    top = ticks[-1]
    left, right, pad_top, pad_bottom = 52, WIDTH - 10, 10, 22
    plot = height - pad_top - pad_bottom
    step = (right - left) / max(1, len(points) - 1)

    def y_of(v: float) -> float:
        return round(height - pad_bottom - v / top * plot, 1)

    coords = [(round(left + i * step, 1), y_of(float(v))) for i, (_, v) in enumerate(points)]
    middle = len(points) // 2
    return {
        "width": WIDTH,
        "height": height,
        "left": left,
        "right": right,
        "points": " ".join(f"{x},{y}" for x, y in coords),
        "dots": [
            {"x": x, "y": y, "label": label, "value": v}
            for (x, y), (label, v) in zip(coords, points, strict=True)
        ],
        "y_ticks": [{"y": y_of(t), "label": compact_money(t)} for t in ticks],
        "x_labels": [
            {"x": coords[i][0], "label": points[i][0], "anchor": anchor}
            for i, anchor in {0: "start", middle: "middle", len(points) - 1: "end"}.items()
            if points
        ],
        "first": points[0][0] if points else "",
        "last": points[-1][0] if points else "",
        "baseline": height - pad_bottom,
        "label_y": height - 6,
    }


CHAR_WIDTH = 6.2  # px per character of an 11 px sans-serif label, generously


def _fit(label: str, chars: int) -> str:
    """The label cut to ``chars`` characters with an ellipsis when longer."""
    return label if len(label) <= chars else label[: max(chars - 1, 1)].rstrip() + "…"


def auc_bars(rows: Sequence[tuple[str, float | None]]) -> dict:
    """Horizontal bars of AUC on a fixed 0–1 scale, with the 0.5 (chance) line marked.

    The label column is as wide as the longest label needs, up to half the chart; a label
    longer than that is cut with an ellipsis (the full text is the bar's tooltip and is in
    the table), so no label runs off the left edge."""
    longest = max((len(label) for label, _ in rows), default=0)
    chars = min(longest, int((WIDTH / 2 - 12) // CHAR_WIDTH))
    label_w = max(120, math.ceil(chars * CHAR_WIDTH) + 12)
    span = WIDTH - label_w - 50
    bars = [
        {
            "label": _fit(label, chars),
            "title": label,
            "y": i * (BAR_HEIGHT + GAP),
            "text_y": i * (BAR_HEIGHT + GAP) + BAR_HEIGHT - 4,
            "w": round((value or 0) * span, 1),
            "x_value": round(label_w + (value or 0) * span + 4, 1),
            "value": "—" if value is None else f"{value:.2f}",
        }
        for i, (label, value) in enumerate(rows)
    ]
    height = max(1, len(rows)) * (BAR_HEIGHT + GAP)
    return {
        "width": WIDTH,
        "height": height,
        "bar_height": BAR_HEIGHT,
        "label_x": label_w - 6,
        "x0": label_w,
        "chance_x": label_w + span / 2,
        "bars": bars,
    }
