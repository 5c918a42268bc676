"""Trends on tiny counts are not alarms (PRODUCT.md, "A colour must mean something").

A rate or trend measure turns yellow or red only when the change is credible: enough
facts to judge, and (for ticket velocity and the CSAT drop) a one-sided exact test at the
configured confidence. Otherwise its row is *thin*: it keeps its value and a sentence that
says why, but is green (its score in the green band) and flagged ``no_data``. Sentences
give the counts before the percentages.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecards import measures as m
from tests import profile
from tests.scorecards.framesbuilder import NOW, build, days_ago

T = {t.code: t for t in m.DEFAULT_THRESHOLDS}
pytestmark = pytest.mark.django_db


def row(df: pd.DataFrame, account_id: int) -> dict:
    return df.loc[account_id].to_dict()


def thin(r: dict) -> bool:
    """A row too thin to judge: green, in-band score, flagged no_data, its value kept."""
    return (
        r["no_data"]
        and r["color"] == "green"
        and 70 <= r["score"] <= 100
        and not math.isnan(r["value"])
    )


def with_params(code: str, **params) -> m.Threshold:
    t = T[code]
    return replace(t, params={**t.params, **params})


# --- the exact tests -------------------------------------------------------------------------


def test_it_computes_the_one_sided_binomial_tail_exactly():
    # P(X >= n1) for X ~ Binomial(n1 + n0, 1/2): the chance of a rise this large by luck.
    assert m.rise_p_value(2, 0) == 0.25
    assert m.rise_p_value(5, 0) == 1 / 32
    assert m.rise_p_value(12, 8) == sum(math.comb(20, k) for k in range(12, 21)) / 2**20
    assert m.rise_p_value(0, 0) == 1.0
    assert m.rise_p_value(3, 7) > 0.9  # a fall is no rise
    # large counts stay finite and small
    assert 0 <= m.rise_p_value(3000, 2500) < 1e-9


@settings(max_examples=profile.examples(ci=300), deadline=None)
@given(
    n=st.one_of(st.integers(0, 120), st.integers(1990, 2600)),
    at=st.floats(0, 1),
    confidence=st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99, 0.999]),
)
def test_the_fast_rise_threshold_agrees_with_the_tail_sum(n, at, confidence):
    # The velocity measure asks rise_needed once per total; the reference is rise_p_value.
    alpha = round(1 - confidence, 12)
    n1 = round(at * n)
    needed = m.rise_needed(n, alpha)
    assert (n1 >= needed) == (m.rise_p_value(n1, n - n1) <= alpha), (n1, n, needed)
    if needed <= n:  # the threshold is tight: one fewer is not credible
        assert m.rise_p_value(needed, n - needed) <= alpha
    if needed > 0:
        assert m.rise_p_value(needed - 1, n - needed + 1) > alpha


def test_it_computes_the_one_sided_fisher_tail_exactly():
    # 4 of 5 satisfied before, 2 of 5 lately: P(≤ 2 of the 5 recent among 6 satisfied of 10)
    assert m.share_fall_p_value(2, 5, 4, 5) == pytest.approx((6 + 60) / 252)
    assert m.share_fall_p_value(5, 5, 0, 5) == 1.0
    assert m.share_fall_p_value(6, 20, 18, 20) < 0.001


# --- velocity --------------------------------------------------------------------------------


def tickets(account_id: int, recent: int, before: int) -> list[dict]:
    return [
        {"account_id": account_id, "opened_at": days_ago(5 + i % 80)} for i in range(recent)
    ] + [{"account_id": account_id, "opened_at": days_ago(100 + i % 80)} for i in range(before)]


def test_it_does_not_call_two_tickets_after_none_a_trend():
    f = build([1], tickets=tickets(1, 2, 0))
    r = row(m.noncritical_velocity(f, T["support.noncritical_velocity"]), 1)
    assert thin(r), r
    assert r["value"] == pytest.approx(0.25)
    assert r["sentence"] == (
        "2 non-critical tickets in the last 90 days vs 0 before: too few to judge a trend"
    )


def test_thin_rows_keep_their_order_inside_the_green_band():
    # Rankings that read scores (the backtest's AUC, the risk features) still see that a thin
    # 5 vs 0 is worse than a thin 3 vs 2, though neither colours anything.
    f = build([1, 2], tickets=tickets(1, 5, 0) + tickets(2, 3, 2))
    rows = m.noncritical_velocity(f, T["support.noncritical_velocity"])
    big, small = row(rows, 1), row(rows, 2)
    assert all(r["color"] == "green" and r["no_data"] for r in (big, small)), (big, small)
    assert 70 <= big["score"] < small["score"] <= 100


def test_it_does_not_colour_a_rise_that_chance_explains():
    # 12 vs 8 is +50% (yellow on the value), but a fair coin gives 12 of 20 one time in four.
    f = build([1], tickets=tickets(1, 12, 8))
    r = row(m.noncritical_velocity(f, T["support.noncritical_velocity"]), 1)
    assert thin(r), r
    assert r["sentence"] == (
        "12 non-critical tickets in the last 90 days vs 8 before (+50%): "
        "not a credible rise at 90% confidence"
    )
    # A team that accepts more chance (confidence 70%) sees it yellow.
    loose = with_params("support.noncritical_velocity", confidence=0.7)
    r = row(m.noncritical_velocity(f, loose), 1)
    assert (r["color"], r["no_data"]) == ("yellow", False)
    assert r["sentence"] == "12 non-critical tickets in the last 90 days vs 8 before (+50%)"


def test_it_colours_a_credible_rise_and_gives_the_counts_first():
    f = build([1, 2], tickets=tickets(1, 28, 10) + tickets(2, 7, 0))
    out = m.noncritical_velocity(f, T["support.noncritical_velocity"])
    one = row(out, 1)
    assert (one["color"], one["no_data"]) == ("red", False)
    assert one["sentence"] == "28 non-critical tickets in the last 90 days vs 10 before (+180%)"
    # 7 vs 0: a fair coin gives 7 heads in 7 one time in 128 → credible, +88% → yellow
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("yellow", False)


def test_it_needs_the_minimum_count_for_any_trend():
    # 5 vs 0 passes the test (1 in 32) but is below min_count: a handful is no trend.
    t = with_params("support.noncritical_velocity", min_count=6)
    r = row(m.noncritical_velocity(build([1], tickets=tickets(1, 5, 0)), t), 1)
    assert thin(r), r
    assert r["sentence"].endswith("too few to judge a trend")
    # A credible fall is a reading (green), not a gap.
    r = row(m.noncritical_velocity(build([2], tickets=tickets(2, 3, 20)), t), 2)
    assert (r["color"], r["no_data"]) == ("green", False)
    assert r["sentence"] == "3 non-critical tickets in the last 90 days vs 20 before (-85%)"


# --- sentiment -------------------------------------------------------------------------------


def nps(account_id: int, days: float, points: list[int]) -> list[dict]:
    return [
        {"account_id": account_id, "responded_at": days_ago(days + k), "nps": p}
        for k, p in enumerate(points)
    ]


def csat(account_id: int, days: float, ratings: list[int]) -> list[dict]:
    return [
        {"account_id": account_id, "responded_at": days_ago(days + k), "csat": c}
        for k, c in enumerate(ratings)
    ]


def test_one_nps_answer_does_not_colour_sentiment():
    f = build([1, 2], sentiment=nps(1, 20, [6]) + nps(2, 20, [6, 5]))
    out = m.nps_level(f, T["sentiment.nps_level"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"] == (
        "1 NPS answer in the last 180 days (average 6.0): too few to judge, at least 2 needed"
    )
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("red", False)
    assert two["sentence"] == "2 NPS answers in the last 180 days, average 5.5"


def test_an_nps_drop_needs_answers_in_each_window():
    # 9, 9 before; one 5 lately: a single answer is not a trend.
    f = build(
        [1, 2],
        sentiment=nps(1, 120, [9, 9]) + nps(1, 20, [5]) + nps(2, 120, [9, 9]) + nps(2, 20, [5, 4]),
    )
    out = m.nps_drop(f, T["sentiment.nps_drop"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"] == (
        "1 NPS answer in the last 90 days vs 2 before: too few to judge a trend"
    )
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("red", False)
    assert two["sentence"] == (
        "2 NPS answers in the last 90 days averaging 4.5 vs 2 before averaging 9.0 "
        "(down 4.5 points)"
    )


def test_a_csat_level_on_few_answers_is_thin_and_says_so():
    f = build([1], sentiment=csat(1, 10, [1, 1]))
    r = row(m.csat_level(f, T["sentiment.csat_level"]), 1)
    assert thin(r), r
    assert r["sentence"] == (
        "0 of 2 CSAT answers satisfied (4–5 of 5) in the last 90 days: "
        "too few to judge, at least 5 needed"
    )


def test_a_csat_drop_turns_red_only_when_credible():
    # 4 of 5 → 2 of 5: one time in four by chance → thin.
    few = csat(1, 120, [5, 4, 4, 4, 2]) + csat(1, 10, [5, 3, 2, 4, 1])
    # 18 of 20 → 6 of 20: credible → red.
    many = csat(2, 100, [5] * 18 + [1] * 2) + csat(2, 5, [5] * 6 + [2] * 14)
    out = m.csat_drop(build([1, 2], sentiment=few + many), T["sentiment.csat_drop"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"] == (
        "2 of 5 CSAT answers satisfied in the last 90 days vs 4 of 5 before "
        "(40% vs 80%, down 40 points): not a credible fall at 95% confidence"
    )
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("red", False)
    assert two["sentence"] == (
        "6 of 20 CSAT answers satisfied in the last 90 days vs 18 of 20 before "
        "(30% vs 90%, down 60 points)"
    )


def test_the_csat_level_gives_the_count_before_the_share():
    f = build([1], sentiment=csat(1, 10, [5, 3, 2, 4, 1]))
    r = row(m.csat_level(f, T["sentiment.csat_level"]), 1)
    assert (r["color"], r["no_data"]) == ("red", False)
    assert r["sentence"] == "2 of 5 CSAT answers satisfied (4–5 of 5) in the last 90 days (40%)"


# --- habits ----------------------------------------------------------------------------------


def weeks(account_id: int, recent: float, base: float, licensed: int, **extra) -> list[dict]:
    out = []
    for k in range(12):
        out.append(
            {
                "account_id": account_id,
                "week": (NOW - dt.timedelta(days=7 * k)).date(),
                "active_users": recent if k < 4 else base,
                "licensed_users": licensed,
                **({"adoption": extra["a_recent"] if k < 4 else extra["a_base"]} if extra else {}),
            }
        )
    return out


def test_usage_on_a_tiny_baseline_is_no_trend():
    usage = weeks(1, 1, 3, 5) + weeks(2, 60, 100, 200)
    out = m.usage_drop(build([1, 2], usage=usage), T["habits.usage_drop"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"] == (
        "Avg 1 active users over the last 4 weeks vs 3 the 8 weeks before (-67%): "
        "too few users to judge a trend, at least 5 needed"
    )
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("red", False)
    assert two["sentence"] == (
        "Avg 60 active users over the last 4 weeks vs 100 the 8 weeks before (-40%)"
    )


def test_adoption_on_a_tiny_baseline_is_no_trend():
    usage = weeks(1, 2, 2, 5, a_recent=0.0, a_base=0.5) + weeks(
        2, 50, 50, 100, a_recent=0.45, a_base=0.6
    )
    out = m.adoption_trend(build([1, 2], usage=usage), T["habits.adoption_trend"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"].endswith("too few users to judge a trend, at least 5 needed")
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("yellow", False)


def test_licence_utilisation_of_a_handful_of_seats_is_thin():
    usage = weeks(1, 1, 1, 3) + weeks(2, 40, 40, 100)
    out = m.license_utilization(build([1, 2], usage=usage), T["habits.license_utilization"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"].startswith("1 of 3 licensed users active in the week of")
    assert one["sentence"].endswith("too few licences to judge, at least 5 needed")
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("yellow", False)
    assert two["sentence"].startswith("40 of 100 licensed users active in the week of")
    assert two["sentence"].endswith("(40%)")


# --- resolution time -------------------------------------------------------------------------


def solved(account: int, opened: float, days: float) -> dict:
    return {
        "account_id": account,
        "opened_at": days_ago(opened),
        "solved_at": days_ago(opened - days),
    }


def test_a_resolution_time_trend_on_few_tickets_is_thin_and_says_so():
    tks = [solved(1, 150, 1)] + [solved(1, 40 + i, 9) for i in range(3)]
    tks += [solved(2, 150 + i, 2) for i in range(5)] + [solved(2, 40 + i, 5) for i in range(5)]
    out = m.resolution_time_trend(build([1, 2], tickets=tks), T["support.resolution_time_trend"])
    one = row(out, 1)
    assert thin(one), one
    assert one["sentence"] == (
        "3 support tickets solved in the last 90 days vs 1 before: too few to judge a "
        "resolution-time trend, at least 5 in each needed"
    )
    two = row(out, 2)
    assert (two["color"], two["no_data"]) == ("red", False)
    assert two["sentence"] == (
        "5 support tickets solved in the last 90 days vs 5 before, median 5.0 days vs 2.0 "
        "(slower, +150%)"
    )


# --- the declarations say it -----------------------------------------------------------------


def test_the_declarations_carry_the_credibility_parameters():
    assert T["support.noncritical_velocity"].params["min_count"] == 6
    assert T["support.noncritical_velocity"].params["confidence"] == 0.9
    assert T["sentiment.csat_drop"].params["confidence"] == 0.95
    for code in ("sentiment.nps_level", "sentiment.nps_drop"):
        assert T[code].params["min_answers"] == 2
    for code in ("sentiment.csat_level", "sentiment.csat_drop"):
        assert T[code].params["min_answers"] == 5
    assert T["support.resolution_time_trend"].params["min_tickets"] == 5
    for code in ("habits.usage_drop", "habits.adoption_trend", "habits.license_utilization"):
        assert T[code].params["min_users"] == 5


# --- every reader agrees ---------------------------------------------------------------------


def test_measure_verdicts_gives_a_thin_row_no_value_to_flag():
    from scorecards.selectors import measure_verdicts
    from tests.scorecards.framesbuilder import write_tickets

    write_tickets(tickets(1, 2, 0) + tickets(2, 28, 10))
    rows = measure_verdicts(["support.noncritical_velocity"], [1, 2], NOW).set_index("account_id")
    assert rows.loc[1, "no_data"] and math.isnan(rows.loc[1, "value"])  # nothing to flag
    assert rows.loc[1, "sentence"].endswith("too few to judge a trend")  # but it says why
    assert rows.loc[2, "value"] == pytest.approx(1.8) and not rows.loc[2, "no_data"]


def test_the_migration_gives_existing_configs_the_credibility_parameters():
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from scorecards.models import MeasureConfig

    def config(code: str, params: dict) -> None:
        t = T[code]
        MeasureConfig.objects.update_or_create(
            code=code,
            defaults={"area": t.area, "label": t.label, "yellow_at": t.yellow_at,
                      "red_at": t.red_at, "params": params},
        )  # fmt: skip

    # as seeded before: old keys, old defaults, and one value a team changed
    config("support.noncritical_velocity", {"floor": 5, "critical": ["urgent"]})
    config("sentiment.csat_level", {"min_responses": 8})
    config("support.resolution_time_trend", {"floor_days": 1, "min_tickets": 3})
    config("sentiment.nps_level", {"min_answers": 4})
    migration = importlib.import_module("scorecards.migrations.0012_credible_trends")
    for _ in range(2):  # twice: the second run changes nothing
        migration.forward(apps, SimpleNamespace(connection=connection))
    params = dict(MeasureConfig.objects.values_list("code", "params"))
    assert params["support.noncritical_velocity"] == {
        "floor": 5, "critical": ["urgent"], "min_count": 6, "confidence": 0.9,
    }  # fmt: skip
    assert params["sentiment.csat_level"] == {"min_answers": 8}
    assert params["support.resolution_time_trend"] == {"floor_days": 1, "min_tickets": 5}
    assert params["sentiment.nps_level"] == {"min_answers": 4}
    migration.backward(apps, SimpleNamespace(connection=connection))
    params = dict(MeasureConfig.objects.values_list("code", "params"))
    assert params["support.noncritical_velocity"] == {"floor": 5, "critical": ["urgent"]}
    assert params["sentiment.csat_level"] == {"min_responses": 8}
    assert params["support.resolution_time_trend"] == {"floor_days": 1, "min_tickets": 3}
