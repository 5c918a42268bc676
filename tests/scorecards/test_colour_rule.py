"""The batch engine (compute.combine) gives exactly the colours, scores and reasons of the
readable colour rule (scorecards.colour_rule), on random small books."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from scorecards.colour_rule import (
    AreaInfo,
    CtaFloor,
    OverrideInfo,
    Verdict,
    account_colours,
    area_colour,
)
from scorecards.compute import combine
from tests import profile

COLORS = ["green", "yellow", "red"]
AREA_CODES = ["habits", "sentiment", "support", "product"]
MEASURES = ["a.one", "a.two", "b.three", "c.four", "c.five"]

areas_st = st.lists(
    st.builds(AreaInfo, st.sampled_from(AREA_CODES), st.sampled_from(["Habits", "Support"]),
              st.integers(0, 20)),
    min_size=0, max_size=4, unique_by=lambda a: a.code,
)  # fmt: skip

measured_st = st.builds(
    Verdict,
    measure=st.sampled_from(MEASURES),
    area=st.sampled_from(AREA_CODES),
    # a tie at the fifth decimal (0.43125) rounds as Python rounds, on either side
    value=st.one_of(st.none(), st.floats(-5, 5, allow_nan=False), st.just(0.43125)),
    color=st.sampled_from(COLORS),
    score=st.integers(0, 100),
    sentence=st.text(min_size=1, max_size=12),  # a measure always says something
    threshold=st.sampled_from(["", "yellow ≥ 1, red ≥ 3"]),
    ref_type=st.sampled_from(["", "ticket"]),
    ref_ids=st.sampled_from(["", "7", "7,3", "@signature"]),
)
# A gap in the data, as ``measures._result`` gives it: green, score 100, a sentence of what is
# missing; sometimes with a (thin) value.
gap_st = st.builds(
    Verdict,
    measure=st.sampled_from(MEASURES),
    area=st.sampled_from(AREA_CODES),
    value=st.one_of(st.none(), st.floats(-5, 5, allow_nan=False)),
    color=st.just("green"),
    score=st.just(100),
    sentence=st.text(min_size=1, max_size=12),
    threshold=st.sampled_from(["", "yellow ≥ 1, red ≥ 3"]),
    ref_type=st.sampled_from(["", "ticket"]),
    ref_ids=st.sampled_from(["", "7"]),
    no_data=st.just(True),
)
verdict_st = st.one_of(measured_st, gap_st)

floor_st = st.builds(
    CtaFloor,
    st.sampled_from(["yellow", "red"]),
    st.lists(
        st.fixed_dictionaries({"id": st.integers(1, 9), "sentence": st.text(max_size=8)}),
        max_size=2,
    ),
)
override_st = st.builds(
    OverrideInfo,
    st.integers(1, 9),
    st.sampled_from(COLORS),
    st.text(max_size=8),
    st.just("lead1"),
    st.just("2027-01-01"),
)


@st.composite
def books(draw: st.DrawFn) -> dict:
    areas = draw(areas_st)
    account_ids = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True))
    verdicts = {
        a: draw(st.lists(verdict_st, max_size=6, unique_by=lambda v: v.measure))
        for a in account_ids
    }
    pairs = st.tuples(st.sampled_from(account_ids), st.sampled_from(AREA_CODES))
    floors = draw(st.dictionaries(pairs, floor_st, max_size=3))
    overrides = draw(st.dictionaries(pairs, override_st, max_size=2))
    return {
        "areas": areas,
        "account_ids": account_ids,
        "verdicts": verdicts,
        "floors": floors,
        "overrides": overrides,
    }


def measure_rows(verdicts: dict[int, list[Verdict]]) -> pd.DataFrame:
    """The rows ``measures.run_measures`` would give for these verdicts."""
    return pd.DataFrame(
        [
            {
                "account_id": account_id,
                "measure": v.measure,
                "area": v.area,
                "value": math.nan if v.value is None else v.value,
                "color": v.color,
                "score": v.score,
                "sentence": v.sentence,
                "threshold": v.threshold,
                "ref_type": v.ref_type,
                "ref_ids": v.ref_ids,
                "no_data": v.no_data,
            }
            for account_id, vs in verdicts.items()
            for v in vs
        ],
        columns=["account_id", "measure", "area", "value", "color", "score", "sentence",
                 "threshold", "ref_type", "ref_ids", "no_data"],
    )  # fmt: skip


@settings(max_examples=profile.examples(ci=150), deadline=None)
@given(books())
def test_it_gives_the_colours_scores_and_reasons_of_the_reference(book: dict) -> None:
    area_results, overall_results = combine(
        measure_rows(book["verdicts"]),
        account_ids=book["account_ids"],
        areas=book["areas"],
        cta_floors=book["floors"],
        overrides=book["overrides"],
    )
    engine_areas = {(r.account_id, r.area): r for r in area_results}
    engine_overall = {r.account_id: r for r in overall_results}
    for account_id in book["account_ids"]:
        colours, overall = account_colours(
            book["areas"],
            book["verdicts"][account_id],
            {area: f for (a, area), f in book["floors"].items() if a == account_id},
            {area: o for (a, area), o in book["overrides"].items() if a == account_id},
        )
        for code, expected in colours.items():
            got = engine_areas[(account_id, code)]
            assert (got.color, got.score, got.computed_color, got.computed_score, got.no_data) == (
                expected.color,
                expected.score,
                expected.computed_color,
                expected.computed_score,
                expected.no_data,
            )
            assert got.reasons == expected.reasons
        got_overall = engine_overall[account_id]
        assert (
            got_overall.color,
            got_overall.score,
            got_overall.weighted_score,
            got_overall.worst_area,
            got_overall.reason,
            got_overall.no_data,
        ) == (
            overall.color,
            overall.score,
            overall.weighted_score,
            overall.worst_area,
            overall.reason,
            overall.no_data,
        )


def test_it_reads_like_the_brief() -> None:
    """Measures, then an open risk CTA's floor, then a person's override."""
    velocity = Verdict("support.velocity", "support", 0.6, "yellow", 55, "Tickets up 60%")
    calm = Verdict("support.urgent", "support", 0.0, "green", 90, "No urgent ticket open")
    flagged = CtaFloor("red", [{"id": 3, "sentence": "Flagged: renewal at risk"}])
    assert area_colour("support", [calm, velocity]).color == "yellow"
    assert area_colour("support", [calm, velocity]).score == 55
    held = area_colour("support", [calm, velocity], cta_floor=flagged)
    assert (held.color, held.score, held.computed_color) == ("red", 39, "yellow")
    assert held.reasons[0]["sentence"] == "Flagged: renewal at risk"
    lifted = area_colour(
        "support",
        [velocity],
        cta_floor=flagged,
        override=OverrideInfo(1, "green", "customer confirmed", "vp", "2027-01-01"),
    )
    # an override never turns a flagged area below red: lifting the flag is the way down
    assert (lifted.color, lifted.score) == ("red", 39)
    assert [r["kind"] for r in lifted.reasons] == ["cta", "measure", "override"]
    opened = CtaFloor("yellow", [{"id": 4, "sentence": "Renewal at risk"}])
    relieved = area_colour(
        "support",
        [velocity],
        cta_floor=opened,
        override=OverrideInfo(1, "green", "customer confirmed", "vp", "2027-01-01"),
    )
    assert (relieved.color, relieved.score) == ("green", 70)
    assert relieved.reasons[0]["kind"] == "override"


def test_it_reads_a_gap_in_the_data_as_no_data_never_as_risk() -> None:
    """An area whose measures all lack data is "no data" (green, score 100) until a CTA or a
    person sets its colour; no-data areas do not lift the account's weighted score."""
    gap = Verdict("company.no_edm", "company", None, "green", 100, "No contacts", no_data=True)
    calm = Verdict("company.reorg", "company", None, "green", 100, "No reorg")
    slow = Verdict("support.velocity", "support", 0.6, "yellow", 50, "Tickets up 60%")
    assert area_colour("company", [gap]).no_data
    assert not area_colour("company", [gap, calm]).no_data  # "no reorg" is a reading
    opened = CtaFloor("yellow", [{"id": 4, "sentence": "Renewal at risk"}])
    held = area_colour("company", [gap], cta_floor=opened)
    assert (held.color, held.no_data) == ("yellow", False)
    green = OverrideInfo(1, "green", "met the CFO", "vp", "2027-01-01")
    assert not area_colour("company", [gap], override=green).no_data
    areas = [AreaInfo("company", "Company", 10), AreaInfo("support", "Support", 10)]
    colours, overall = account_colours(areas, [gap, slow])
    assert colours["company"].no_data and not colours["support"].no_data
    assert (overall.color, overall.weighted_score, overall.no_data) == ("yellow", 50, False)
    colours, overall = account_colours(areas, [gap, replace(slow, color="green", score=80)])
    assert (overall.weighted_score, overall.reason) == (
        80,
        "All areas with data are green (no data: Company).",
    )
    colours, overall = account_colours(areas, [gap])
    assert (overall.color, overall.no_data, overall.weighted_score) == ("green", True, 70)
    assert overall.reason == "No data on record in any area."
