"""combine: the digest of an area's state changes exactly when what is stored changes."""

from __future__ import annotations

import pandas as pd

from scorecards.colour_rule import AreaInfo, CtaFloor
from scorecards.compute import combine

AREAS = [AreaInfo("support", "Support", 10), AreaInfo("defect", "Defect", 10)]


def rows(sentence: str = "2 urgent tickets open", refs: str = "7") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account_id": [1, 1],
            "measure": ["support.urgent_open", "defect.open_defects"],
            "area": ["support", "defect"],
            "value": [2.0, float("nan")],
            "color": ["yellow", "green"],
            "score": [55, 100],
            "sentence": [sentence, "No open defects."],
            "threshold": ["yellow ≥ 1, red ≥ 3", "yellow ≥ 2, red ≥ 4"],
            "ref_type": ["ticket", ""],
            "ref_ids": [refs, ""],
        }
    )


def digests(measure_rows: pd.DataFrame, floors: dict | None = None) -> dict[str, str]:
    areas, _ = combine(
        measure_rows, account_ids=[1], areas=AREAS, cta_floors=floors or {}, overrides={}
    )
    return {a.area: a.digest for a in areas}


def test_it_gives_the_same_digest_for_the_same_state():
    assert digests(rows()) == digests(rows())


def test_it_changes_the_digest_with_a_sentence_a_link_or_a_cta():
    base = digests(rows())
    assert (
        digests(rows(sentence="2 urgent tickets open, the oldest for 3 days"))["support"]
        != (base["support"])
    )
    assert digests(rows(refs="8"))["support"] != base["support"]
    floor = {(1, "support"): CtaFloor("red", [{"id": 3, "sentence": "Flagged"}])}
    assert digests(rows(), floor)["support"] != base["support"]
    assert digests(rows(), floor)["defect"] == base["defect"]


def test_it_builds_reasons_only_for_the_areas_whose_digest_moved():
    everything, _ = combine(rows(), account_ids=[1], areas=AREAS, cta_floors={}, overrides={})
    stored = pd.DataFrame(
        {
            "account_id": [1, 1],
            "area": [a.area for a in everything],
            "digest": [a.digest if a.area != "defect" else "an older digest" for a in everything],
        }
    )
    changed, overall = combine(
        rows(), account_ids=[1], areas=AREAS, cta_floors={}, overrides={}, stored=stored
    )
    assert [a.area for a in changed] == ["defect"]
    assert changed[0].reasons == next(r for r in everything if r.area == "defect").reasons
    # the overall still reads the unchanged support area
    assert overall[0].reason == "Support is yellow: 2 urgent tickets open"


def test_it_stores_the_reason_links_of_a_measure_row():
    support = next(
        a
        for a in combine(
            rows(refs="9,7"), account_ids=[1], areas=AREAS, cta_floors={}, overrides={}
        )[0]
        if a.area == "support"
    )
    assert support.reasons[0]["refs"] == [{"type": "ticket", "id": 9}, {"type": "ticket", "id": 7}]
    assert support.reasons[0]["value"] == 2.0


def test_it_keeps_the_digests_stored_before():
    # Digests on record must stay valid when the code that computes them changes: a new
    # value for the same state rewrites every area of the book on the next recompute.
    assert digests(rows()) == {
        "support": "1119afe2fdcc7b641119afe2fdcc7b64",
        "defect": "6a0b9c2f9bf547a16a0b9c2f9bf547a1",
    }
    changed = rows(sentence="2 urgent tickets open, the oldest for 3 days", refs="17,16")
    assert digests(changed)["support"] == "db519ae6067f647edb519ae6067f647e"


def test_it_stores_values_rounded_as_pythons_round_does_ties_included():
    # np.round and round() differ on ties such as 0.43125; the stored value is round()'s
    values = [0.43125, 2.5e-05, -0.00015, 1.00005, 123456.78905, 1e20, 0.1 + 0.2, 1 / 3]
    for v in values:
        support = next(
            a
            for a in combine(
                rows().assign(value=[v, float("nan")]),
                account_ids=[1],
                areas=AREAS,
                cta_floors={},
                overrides={},
            )[0]
            if a.area == "support"
        )
        assert support.reasons[0]["value"] == round(v, 4), v


def test_it_changes_the_digest_when_a_row_becomes_a_gap_in_the_data():
    # The same row read as a gap (no_data) is stored differently: its area is "no data".
    base = rows().assign(no_data=[False, False])
    assert digests(base) == digests(rows())  # the digests on record before the flag stand
    gap = rows().assign(no_data=[False, True])
    assert digests(gap)["defect"] != digests(base)["defect"]
    assert digests(gap)["support"] == digests(base)["support"]
    areas, overall = combine(gap, account_ids=[1], areas=AREAS, cta_floors={}, overrides={})
    assert [a.no_data for a in areas] == [False, True]
    assert overall[0].weighted_score == 55  # the no-data defect area's 100 is left out
