"""From measure rows to colours: area colours, CTA precedence, overrides, the overall.

Pure functions over plain data, like the measures. The precedence, in order:

1. **Measures**: an area's computed colour is the worst of its measures; its score is the
   lowest measure score (so the score always sits in the colour's band).
2. **CTAs**: an open manual risk CTA in the area makes it at least yellow, a flagged one
   red (the ``cta_floor`` the ctas app sets). Closing the CTA removes the floor and the
   measures speak again.
3. **Override**: a person's colour, with a reason and an expiry, wins over both until it
   expires or is cleared.

The overall colour is the **worst** area colour, and its reason names that area ("support
is red: …"): one red area is never hidden inside a green average. A weighted mean of the
area scores is kept beside it for ranking.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from scorecards.measures import COLOR_RANK, GREEN, RANK_COLOR, RED, YELLOW

BAND = {GREEN: (70, 100), YELLOW: (40, 69), RED: (0, 39)}


@dataclass(frozen=True)
class AreaInfo:
    code: str
    name: str
    weight: int


@dataclass(frozen=True)
class CtaFloor:
    color: str  # yellow or red
    reasons: list[dict[str, Any]]  # [{"type": "cta", "id": 7, "sentence": "…"}]


@dataclass(frozen=True)
class OverrideInfo:
    id: int
    color: str
    reason: str
    set_by: str
    expires_at: str


@dataclass
class AreaResult:
    account_id: int
    area: str
    color: str
    score: int
    computed_color: str
    computed_score: int
    reasons: list[dict[str, Any]]


@dataclass
class OverallResult:
    account_id: int
    color: str
    score: int
    weighted_score: int
    worst_area: str
    reason: str


def into_band(score: int, color: str) -> int:
    low, high = BAND[color]
    return max(low, min(high, score))


def worst(colors: list[str]) -> str:
    return RANK_COLOR[max((COLOR_RANK[c] for c in colors), default=0)]


def combine(
    measure_rows: pd.DataFrame,
    *,
    account_ids: list[int],
    areas: list[AreaInfo],
    cta_floors: dict[tuple[int, str], CtaFloor],
    overrides: dict[tuple[int, str], OverrideInfo],
) -> tuple[list[AreaResult], list[OverallResult]]:
    """Area and overall results for every account in ``account_ids``."""
    by_key: dict[tuple[int, str], list[dict[str, Any]]] = {}
    if not measure_rows.empty:
        rows = measure_rows.sort_values(["score", "measure"])  # worst first
        columns = ["account_id", "area", "measure", "value", "color", "score", "sentence"]
        # Column lists zipped, not to_dict("records"): a full recompute has ~130,000 rows.
        for account_id, area, measure, value, color, score, sentence, threshold, refs in zip(
            *(rows[c].tolist() for c in columns),
            rows["threshold"].tolist(),
            rows["refs"].tolist(),
            strict=True,
        ):
            by_key.setdefault((int(account_id), area), []).append(
                {
                    "kind": "measure",
                    "measure": measure,
                    "value": None if pd.isna(value) else round(float(value), 4),
                    "color": color,
                    "score": int(score),
                    "sentence": sentence,
                    "threshold": threshold,
                    "refs": refs,
                }
            )
    area_results: list[AreaResult] = []
    overall: list[OverallResult] = []
    total_weight = sum(a.weight for a in areas) or 1
    for account_id in account_ids:
        mine: list[AreaResult] = []
        for area in areas:
            reasons = by_key.get((account_id, area.code), [])
            computed_color = worst([r["color"] for r in reasons])
            computed_score = min((r["score"] for r in reasons), default=100)
            color, score = computed_color, computed_score
            final_reasons = list(reasons)
            floor = cta_floors.get((account_id, area.code))
            if floor and COLOR_RANK[floor.color] > COLOR_RANK[color]:
                color, score = floor.color, into_band(score, floor.color)
                final_reasons = [_cta_reason(floor), *final_reasons]
            elif floor:
                final_reasons = [*final_reasons, _cta_reason(floor)]
            ov = overrides.get((account_id, area.code))
            if ov:
                color, score = ov.color, into_band(score, ov.color)
                final_reasons = [
                    {
                        "kind": "override",
                        "color": ov.color,
                        "sentence": f"Set to {ov.color} by {ov.set_by} until "
                        f"{ov.expires_at}: {ov.reason}",
                        "refs": [{"type": "override", "id": ov.id}],
                    },
                    *final_reasons,
                ]
            mine.append(
                AreaResult(
                    account_id,
                    area.code,
                    color,
                    score,
                    computed_color,
                    computed_score,
                    final_reasons,
                )
            )
        area_results.extend(mine)
        overall.append(_overall(account_id, mine, areas, total_weight))
    return area_results, overall


def _cta_reason(floor: CtaFloor) -> dict[str, Any]:
    return {
        "kind": "cta",
        "color": floor.color,
        "sentence": "; ".join(r["sentence"] for r in floor.reasons) or "Open risk CTA",
        "refs": [{"type": "cta", "id": r["id"]} for r in floor.reasons if "id" in r],
    }


def _overall(
    account_id: int, mine: list[AreaResult], areas: list[AreaInfo], total_weight: int
) -> OverallResult:
    names = {a.code: a.name for a in areas}
    weights = {a.code: a.weight for a in areas}
    worst_area = max(mine, key=lambda r: (COLOR_RANK[r.color], -r.score), default=None)
    weighted = round(sum(r.score * weights[r.area] for r in mine) / total_weight)
    if worst_area is None or worst_area.color == GREEN:
        return OverallResult(
            account_id,
            GREEN,
            min((r.score for r in mine), default=100),
            weighted,
            "",
            "All areas are green.",
        )
    others = [r for r in mine if r.color == worst_area.color and r is not worst_area]
    head = worst_area.reasons[0]["sentence"] if worst_area.reasons else ""
    reason = f"{names[worst_area.area]} is {worst_area.color}: {head}"
    if others:
        also = ", ".join(names[r.area] for r in others)
        reason += f" (also {worst_area.color}: {also})"
    return OverallResult(
        account_id, worst_area.color, worst_area.score, weighted, worst_area.area, reason[:500]
    )
