"""The summary's SVG charts: geometry that keeps every label on the canvas."""

from __future__ import annotations

from decimal import Decimal

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


def test_the_trend_has_a_y_axis_of_round_ticks_from_zero():
    from insights.charts import compact_money, line, nice_ticks

    assert nice_ticks(1_130_000) == [0, 500_000, 1_000_000, 1_500_000]
    assert nice_ticks(90) == [0, 25, 50, 75, 100]
    assert nice_ticks(0) == [0.0, 1.0]
    assert [compact_money(v) for v in (0, 250_000, 1_500_000)] == ["0", "250k", "1.5M"]
    chart = line([("Oct 05", Decimal(400_000)), ("Oct 12", Decimal(1_130_000))])
    labels = [t["label"] for t in chart["y_ticks"]]
    assert labels == ["0", "500k", "1M", "1.5M"]
    assert chart["y_ticks"][0]["y"] == chart["baseline"]  # zero sits on the x-axis
    # the highest point is below the top tick, not clipped at the frame
    assert min(d["y"] for d in chart["dots"]) > chart["y_ticks"][-1]["y"]
    assert [x["label"] for x in chart["x_labels"]] == ["Oct 05", "Oct 12"]
