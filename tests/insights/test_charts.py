"""The summary's SVG charts: geometry that keeps every label on the canvas."""

from __future__ import annotations

import pytest

from insights.charts import CHAR_WIDTH, WIDTH, auc_bars


def test_the_label_column_is_as_wide_as_the_longest_label_needs():
    label = "Non-critical ticket velocity"
    chart = auc_bars([(label, 0.7), ("Composite", 0.6)])
    assert chart["label_x"] - len(label) * CHAR_WIDTH >= 0  # starts on the canvas
    assert [b["label"] for b in chart["bars"]] == [label, "Composite"]
    # The bars start after the labels and end inside the chart, the value beside them.
    assert chart["x0"] > chart["label_x"]
    assert chart["bars"][0]["x_value"] < WIDTH
    assert chart["chance_x"] == pytest.approx(chart["x0"] + (WIDTH - chart["x0"] - 50) / 2)


def test_a_label_too_long_for_half_the_chart_is_cut_and_kept_whole_as_the_tooltip():
    label = "Executive Decision Maker or champion left, or a key title downgraded, at T-90"
    bar = auc_bars([(label, None)])["bars"][0]
    assert bar["label"].endswith("…") and len(bar["label"]) < len(label)
    assert len(bar["label"]) * CHAR_WIDTH <= WIDTH / 2
    assert bar["title"] == label
    assert bar["value"] == "—" and bar["w"] == 0
