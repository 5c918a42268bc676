"""combine: the digest of an area's state changes exactly when what is stored changes."""

from __future__ import annotations

import pandas as pd

from scorecards.compute import AreaInfo, CtaFloor, combine

AREAS = [AreaInfo("support", "Support", 10), AreaInfo("defect", "Defect", 10)]


def rows(sentence: str = "2 urgent tickets open", refs: list | None = None) -> pd.DataFrame:
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
            "refs": [refs if refs is not None else [{"type": "ticket", "id": 7}], []],
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
    assert digests(rows(refs=[{"type": "ticket", "id": 8}]))["support"] != base["support"]
    floor = {(1, "support"): CtaFloor("red", [{"id": 3, "sentence": "Flagged"}])}
    assert digests(rows(), floor)["support"] != base["support"]
    assert digests(rows(), floor)["defect"] == base["defect"]
