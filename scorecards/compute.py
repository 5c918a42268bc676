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

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
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
    # Changes exactly when any of the above (but the account and area) changes: stored beside
    # the area, so a recompute compares digests instead of reasons documents.
    digest: str = ""


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
    """Area and overall results for every account in ``account_ids``.

    Colours and scores are worked out on (account × area) arrays; CTA floors and overrides
    (few) adjust them one by one; only the reasons lists and the overall sentences of
    non-green accounts are built per account.
    """
    n, codes = len(account_ids), [a.code for a in areas]
    rank = np.zeros((n, len(areas)), dtype=int)  # computed colour rank, green when no measure
    score = np.full((n, len(areas)), 100, dtype=int)
    content = np.zeros((n, len(areas)), dtype=np.uint64)  # sum of the measure rows' hashes
    by_key: dict[tuple[int, str], list[dict[str, Any]]] = {}
    if not measure_rows.empty:
        rows = measure_rows.sort_values(["score", "measure"])  # worst first
        row_account = pd.Index(account_ids).get_indexer(rows["account_id"].to_numpy())
        row_area = pd.Index(codes).get_indexer(rows["area"].to_numpy())
        known = (row_account >= 0) & (row_area >= 0)
        at = (row_account[known], row_area[known])
        colors = rows["color"].map(COLOR_RANK).to_numpy(dtype=int)[known]
        np.maximum.at(rank, at, colors)
        np.minimum.at(score, at, rows["score"].to_numpy(dtype=int)[known])
        np.add.at(content, at, _row_hashes(rows)[known])
        columns = ["account_id", "area", "measure", "value", "color", "score", "sentence"]
        # Column lists zipped, not to_dict("records"): a full recompute has ~130,000 rows.
        for account_id, area, measure, value, color, s, sentence, threshold, refs in zip(
            *(rows[c].tolist() for c in columns),
            rows["threshold"].tolist(),
            rows["refs"].tolist(),
            strict=True,
        ):
            by_key.setdefault((int(account_id), area), []).append(
                {
                    "kind": "measure",
                    "measure": measure,
                    "value": None if value != value or value is None else round(float(value), 4),
                    "color": color,
                    "score": int(s),
                    "sentence": sentence,
                    "threshold": threshold,
                    "refs": refs,
                }
            )
    computed_rank, computed_score = rank.copy(), score.copy()
    extra: dict[tuple[int, str], tuple[list, list]] = {}  # reasons before / after the measures'
    position = {a: i for i, a in enumerate(account_ids)}
    column = {c: j for j, c in enumerate(codes)}
    for (account_id, area), floor in cta_floors.items():
        i, j = position.get(account_id), column.get(area)
        if i is None or j is None:
            continue
        before, after = extra.setdefault((account_id, area), ([], []))
        if COLOR_RANK[floor.color] > rank[i, j]:
            rank[i, j] = COLOR_RANK[floor.color]
            score[i, j] = into_band(int(score[i, j]), floor.color)
            before.append(_cta_reason(floor))
        else:
            after.append(_cta_reason(floor))
    for (account_id, area), ov in overrides.items():
        i, j = position.get(account_id), column.get(area)
        if i is None or j is None:
            continue
        rank[i, j] = COLOR_RANK[ov.color]
        score[i, j] = into_band(int(score[i, j]), ov.color)
        extra.setdefault((account_id, area), ([], []))[0].insert(0, _override_reason(ov))
    area_results: list[AreaResult] = []
    for i, account_id in enumerate(account_ids):
        for j, code in enumerate(codes):
            reasons = by_key.get((account_id, code), [])
            extras = ""
            if (account_id, code) in extra:
                before, after = extra[(account_id, code)]
                reasons = [*before, *reasons, *after]
                extras = json.dumps([before, after], sort_keys=True, default=str)
            state = (
                RANK_COLOR[rank[i, j]],
                int(score[i, j]),
                RANK_COLOR[computed_rank[i, j]],
                int(computed_score[i, j]),
            )
            text = f"{content[i, j]}|{state}|{extras}"
            area_results.append(
                AreaResult(
                    account_id,
                    code,
                    *state,
                    list(reasons),
                    hashlib.blake2b(text.encode(), digest_size=16).hexdigest(),
                )
            )
    return area_results, _overall(account_ids, areas, rank, score, area_results)


def _row_hashes(rows: pd.DataFrame) -> np.ndarray:
    """A stable 64-bit hash of each measure row as its reason reads (pandas' fixed-key
    SipHash, the same in every process). Summed per area, the order of the rows does not
    matter: it follows from their scores and codes, which are hashed."""
    # Rounded exactly as the reason stores it: a decaying exposure moves every second, but
    # the stored reason only when its fourth decimal does.
    value = np.array(
        [round(v, 4) if v == v else v for v in rows["value"].astype(float).tolist()], dtype=float
    )
    keyed = pd.DataFrame(
        {
            "measure": rows["measure"].to_numpy(),
            "value": value,
            "color": rows["color"].to_numpy(),
            "score": rows["score"].to_numpy(dtype=int),
            "sentence": rows["sentence"].to_numpy(),
            "threshold": rows["threshold"].to_numpy(),
            "refs": rows["refs"].astype(str).to_numpy(),
        }
    )
    return pd.util.hash_pandas_object(keyed, index=False).to_numpy(dtype=np.uint64)


def _override_reason(ov: OverrideInfo) -> dict[str, Any]:
    return {
        "kind": "override",
        "color": ov.color,
        "sentence": f"Set to {ov.color} by {ov.set_by} until {ov.expires_at}: {ov.reason}",
        "refs": [{"type": "override", "id": ov.id}],
    }


def _cta_reason(floor: CtaFloor) -> dict[str, Any]:
    return {
        "kind": "cta",
        "color": floor.color,
        "sentence": "; ".join(r["sentence"] for r in floor.reasons) or "Open risk CTA",
        "refs": [{"type": "cta", "id": r["id"]} for r in floor.reasons if "id" in r],
    }


def _overall(
    account_ids: list[int],
    areas: list[AreaInfo],
    rank: np.ndarray,
    score: np.ndarray,
    area_results: list[AreaResult],
) -> list[OverallResult]:
    """The worst area (colour, then lowest score; the first area in order on a tie) and the
    weighted score of every account; a sentence naming the worst area when it is not green."""
    if not areas:
        return [OverallResult(a, GREEN, 100, 0, "", "All areas are green.") for a in account_ids]
    weights = np.array([a.weight for a in areas], dtype=float)
    total_weight = weights.sum() or 1
    weighted = np.round(score @ weights / total_weight).astype(int)
    # argmax takes the first maximum, as max() over the areas did.
    worst_at = np.argmax(rank * 1000 - score, axis=1)
    n = len(areas)
    out = []
    for i, account_id in enumerate(account_ids):
        j = int(worst_at[i])
        worst_rank = int(rank[i, j])
        if worst_rank == 0:
            out.append(
                OverallResult(
                    account_id,
                    GREEN,
                    int(score[i].min()),
                    int(weighted[i]),
                    "",
                    "All areas are green.",
                )
            )
            continue
        worst_area = area_results[i * n + j]
        others = [areas[k].name for k in range(n) if k != j and rank[i, k] == worst_rank]
        head = worst_area.reasons[0]["sentence"] if worst_area.reasons else ""
        reason = f"{areas[j].name} is {worst_area.color}: {head}"
        if others:
            reason += f" (also {worst_area.color}: {', '.join(others)})"
        out.append(
            OverallResult(
                account_id,
                worst_area.color,
                worst_area.score,
                int(weighted[i]),
                worst_area.area,
                reason[:500],
            )
        )
    return out
