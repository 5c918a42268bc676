"""The batch engine of the colour rule: a whole book's measure rows to area and overall
colours, on (account × area) arrays, with the digests that let a recompute write only what
changed.

The rule itself — measures, CTA floor, override, worst-of, overall — is written to be read
in ``scorecards.colour_rule``; this module must give exactly its colours, scores and
reasons (a property test holds the two equal), only faster.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from scorecards.colour_rule import (
    NO_DATA_WEIGHTED,
    AreaInfo,
    CtaFloor,
    OverrideInfo,
    cta_reason,
    green_reason,
    into_band,
    override_reason,
    override_sets_colour,
)
from scorecards.measures import COLOR_RANK, DEFERRED, GREEN, RANK_COLOR, ref_links

# (measure code, account ids) → {account id: "17,16,15"}: the ids behind the measure rows
# that carry a signature (``measures.DEFERRED``), for the reasons that are built.
LinkLookup = Callable[[str, list[int]], dict[int, str]]


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
    no_data: bool = False  # ``colour_rule.area_colour``: no measure had data, nobody set it


@dataclass
class OverallResult:
    account_id: int
    color: str
    score: int
    weighted_score: int
    worst_area: str
    reason: str
    # A digest of the account's area digests (``_account_digests``), stored with the
    # scorecard: a recompute compares it first, and the areas only when it moved.
    areas_digest: str = ""
    no_data: bool = False  # no area of the account has data


def combine(
    measure_rows: pd.DataFrame,
    *,
    account_ids: list[int],
    areas: list[AreaInfo],
    cta_floors: dict[tuple[int, str], CtaFloor],
    overrides: dict[tuple[int, str], OverrideInfo],
    stored: pd.DataFrame | Callable[[list[int]], pd.DataFrame] | None = None,
    stored_accounts: dict[int, str] | None = None,
    links: LinkLookup | None = None,
) -> tuple[list[AreaResult], list[OverallResult]]:
    """Area and overall results for every account in ``account_ids``.

    Colours, scores and digests are worked out on (account × area) arrays; CTA floors and
    overrides (few) adjust them one by one. ``stored`` holds the digests on record
    (columns account_id, area, digest; ``selectors.stored_areas``), or looks them up for
    some accounts: an area whose digest is the same is left out of the area results
    (nothing of it would be written), so only the areas that changed get their reasons
    built. Without ``stored`` every area is returned. ``stored_accounts`` holds each
    account's digest of its area digests on record (``OverallResult.areas_digest``): an
    account whose digest is the same has no area that changed, so only the others' areas
    are compared (and looked up). The overall sentences are built for the accounts that
    are not green. ``links`` looks up the deferred reason links of the reasons built
    (without it those reasons have no links).
    """
    n, m, codes = len(account_ids), len(areas), [a.code for a in areas]
    rank = np.zeros((n, m), dtype=int)  # computed colour rank, green when no measure
    score = np.full((n, m), 100, dtype=int)
    content = np.zeros(n * m, dtype=np.uint64)  # sum of the measure rows' hashes per cell
    head = np.full(n * m, "", dtype=object)  # the worst measure's sentence per cell
    measured = np.zeros((n, m), dtype=bool)  # a measure row with data (not ``no_data``)
    set_by = np.zeros((n, m), dtype=bool)  # a CTA floor or an override set the colour
    rows = measure_rows
    cells = np.zeros(0, dtype=int)  # each known row's cell (account * m + area)
    row_at = np.zeros(0, dtype=int)  # and its position in ``rows``
    if not measure_rows.empty:
        rows = measure_rows.take(_worst_first(measure_rows)).reset_index(drop=True)
        row_account = pd.Index(account_ids).get_indexer(rows["account_id"].to_numpy())
        row_area = pd.Index(codes).get_indexer(rows["area"].to_numpy())
        row_at = np.flatnonzero((row_account >= 0) & (row_area >= 0))
        at = (row_account[row_at], row_area[row_at])
        cells = at[0] * m + at[1]
        colors = rows["color"].map(COLOR_RANK).to_numpy(dtype=int)[row_at]
        np.maximum.at(rank, at, colors)
        np.minimum.at(score, at, rows["score"].to_numpy(dtype=int)[row_at])
        np.add.at(content, cells, _row_hashes(rows)[row_at])
        np.logical_or.at(measured, at, ~_no_data(rows)[row_at])
        first_cells, first = np.unique(cells, return_index=True)  # rows are worst first
        head[first_cells] = rows["sentence"].to_numpy(dtype=object)[row_at[first]]
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
            before.append(cta_reason(floor))
            set_by[i, j] = True
        else:
            after.append(cta_reason(floor))
    for (account_id, area), ov in overrides.items():
        i, j = position.get(account_id), column.get(area)
        if i is None or j is None:
            continue
        before, after = extra.setdefault((account_id, area), ([], []))
        if override_sets_colour(ov, cta_floors.get((account_id, area))):
            rank[i, j] = COLOR_RANK[ov.color]
            score[i, j] = into_band(int(score[i, j]), ov.color)
            before.insert(0, override_reason(ov))
            set_by[i, j] = True
        else:  # held red by a flag (already red): the flag's reason leads, the override's follows
            after.append(override_reason(ov))
    no_data = ~measured & ~set_by
    high, low = _cell_hashes(content, rank, score, computed_rank, computed_score, no_data)
    special: dict[int, str] = {}  # the cells with CTA or override reasons: digest text
    keys = high  # each cell's 64 bits for its account's digest (a copy once one differs)
    for (account_id, area), (before, after) in extra.items():
        c = position[account_id] * m + column[area]
        state = _state(c, m, rank, score, computed_rank, computed_score)
        extras = json.dumps([before, after], sort_keys=True, default=str)
        text = f"{content[c]}|{state}|{extras}" + ("|no data" if no_data.flat[c] else "")
        special[c] = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
        keys = high.copy() if keys is high else keys
        keys[c] = np.uint64(int(special[c][:16], 16))
        if before or not head[c]:
            head[c] = (before or after)[0]["sentence"] if before or after else head[c]
    account_digests = _account_digests(keys, n, m)
    if stored is None and stored_accounts is None:
        candidates = np.arange(n * m)
    else:
        moved = np.arange(n)
        if stored_accounts is not None:
            on_file = [stored_accounts.get(a) for a in account_ids]
            moved = np.flatnonzero(np.asarray(on_file, dtype=object) != account_digests)
        candidates = (moved[:, None] * m + np.arange(m)).reshape(-1)
    digests = np.full(n * m, None, dtype=object)  # as text, for the cells compared
    digests[candidates] = [
        special.get(c) or f"{high[c]:016x}{low[c]:016x}" for c in candidates.tolist()
    ]
    wanted = candidates
    if stored is not None and len(candidates):
        if callable(stored):
            stored = stored([account_ids[i] for i in np.unique(candidates // m).tolist()])
        on_record = np.full(n * m, None, dtype=object)
        i = pd.Index(account_ids).get_indexer(stored["account_id"].to_numpy())
        j = pd.Index(codes).get_indexer(stored["area"].to_numpy())
        known = (i >= 0) & (j >= 0)
        on_record[i[known] * m + j[known]] = stored["digest"].to_numpy(dtype=object)[known]
        wanted = candidates[digests[candidates] != on_record[candidates]]
    area_results = _area_results(
        rows, cells, row_at, wanted, account_ids, codes, extra, digests,
        (rank, score, computed_rank, computed_score), no_data, links,
    )  # fmt: skip
    return area_results, _overall(account_ids, areas, rank, score, no_data, head, account_digests)


def _no_data(rows: pd.DataFrame) -> np.ndarray:
    """Each measure row's ``no_data`` flag (none flagged for rows made before the flag)."""
    if "no_data" not in rows:
        return np.zeros(len(rows), dtype=bool)
    return rows["no_data"].to_numpy(dtype=bool)


def _worst_first(rows: pd.DataFrame) -> np.ndarray:
    """The order of ``sort_values(["score", "measure"], kind="stable")``: lowest score first,
    then measure code, ties as they came. The codes are hashed, and only the twenty distinct
    ones sorted: sorting ~170,000 code strings took longer than the rest of the order."""
    codes, uniques = pd.factorize(rows["measure"].to_numpy(dtype=object))
    rank = np.empty(len(uniques), dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    # lexsort is stable and sorts by its last key first.
    return np.lexsort((rank[codes], rows["score"].to_numpy(dtype=np.int64)))


def _state(
    c: int,
    m: int,
    rank: np.ndarray,
    score: np.ndarray,
    computed_rank: np.ndarray,
    computed_score: np.ndarray,
) -> tuple[str, int, str, int]:
    i, j = divmod(c, m)
    return (
        RANK_COLOR[int(rank[i, j])],
        int(score[i, j]),
        RANK_COLOR[int(computed_rank[i, j])],
        int(computed_score[i, j]),
    )


def _cell_hashes(
    content: np.ndarray,
    rank: np.ndarray,
    score: np.ndarray,
    computed_rank: np.ndarray,
    computed_score: np.ndarray,
    no_data: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Two 64-bit hashes per cell over its rows' hashes, its colours and scores and its
    no-data flag: the cell's digest is their hex text (written out only for the cells
    compared)."""
    state = pd.DataFrame(
        {
            "content": content,
            "rank": rank.reshape(-1),
            "score": score.reshape(-1),
            "computed_rank": computed_rank.reshape(-1),
            "computed_score": computed_score.reshape(-1),
        }
    )
    high, low = (
        pd.util.hash_pandas_object(state, index=False, hash_key=key).to_numpy(dtype=np.uint64)
        for key in (_HASH_KEY_HIGH, _HASH_KEY_LOW)
    )
    return _flagged(high, no_data.reshape(-1)), _flagged(low, no_data.reshape(-1))


# Mixed into the hash of a no-data row or cell: the digests of the rest stay those on record
# before the flag existed, so that adding it rewrote only the areas it changed.
_NO_DATA_MIX = np.uint64(0x9E3779B97F4A7C15)


def _flagged(hashes: np.ndarray, no_data: np.ndarray) -> np.ndarray:
    """``hashes`` with the no-data ones changed (xor a fixed odd constant)."""
    return hashes ^ np.where(no_data, _NO_DATA_MIX, np.uint64(0))


def _account_digests(cell_hashes: np.ndarray, n: int, m: int) -> np.ndarray:
    """Per account, a digest of its cells' digests (their first 64 bits, in area order), as
    16 hex digits: the same exactly when no area of the account changed, but by chance."""
    if not m:
        return np.full(n, "", dtype=object)
    grid = cell_hashes.reshape(n, m)
    mixed = _combined(grid[:, j] for j in range(m))
    return np.array([f"{x:016x}" for x in mixed.tolist()], dtype=object)


# Two fixed 16-byte SipHash keys: two independent 64-bit halves of a 128-bit digest.
_HASH_KEY_HIGH = "csrisk-area-hi-1"
_HASH_KEY_LOW = "csrisk-area-lo-1"


def _area_results(
    rows: pd.DataFrame,
    cells: np.ndarray,
    row_at: np.ndarray,
    wanted: np.ndarray,
    account_ids: list[int],
    codes: list[str],
    extra: dict[tuple[int, str], tuple[list, list]],
    digests: np.ndarray,
    grids: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    no_data: np.ndarray,
    links: LinkLookup | None,
) -> list[AreaResult]:
    """An AreaResult with its reasons for each wanted cell (cells in account, area order)."""
    m = len(codes)
    if not len(wanted):
        return []
    # The rows of each wanted cell, worst first: the rows sorted by cell (stable).
    order = row_at[np.argsort(cells, kind="stable")]
    sorted_cells = np.sort(cells, kind="stable")
    lo = np.searchsorted(sorted_cells, wanted, side="left")
    hi = np.searchsorted(sorted_cells, wanted, side="right")
    picked = np.concatenate([order[a:b] for a, b in zip(lo, hi, strict=True)] or [order[:0]])
    reasons = _measure_reasons(rows.iloc[picked], links) if len(picked) else []
    out, k = [], 0
    for c, a, b in zip(wanted.tolist(), lo.tolist(), hi.tolist(), strict=True):
        i, j = divmod(c, m)
        account_id, code = account_ids[i], codes[j]
        mine = reasons[k : k + b - a]
        k += b - a
        if (account_id, code) in extra:
            before, after = extra[(account_id, code)]
            mine = [*before, *mine, *after]
        out.append(
            AreaResult(
                account_id,
                code,
                *_state(c, m, *grids),
                list(mine),
                str(digests[c]),
                bool(no_data.flat[c]),
            )
        )
    return out


def _measure_reasons(rows: pd.DataFrame, links: LinkLookup | None) -> list[dict[str, Any]]:
    """The stored reason of each measure row."""
    # Column lists zipped, not to_dict("records"): a first full recompute has ~180,000 rows.
    columns = ["measure", "color", "score", "sentence", "threshold", "ref_type"]
    ref_ids = _looked_up(rows, links)
    return [
        {
            "kind": "measure",
            "measure": measure,
            "value": None if value != value else float(value),
            "color": color,
            "score": int(s),
            "sentence": sentence,
            "threshold": threshold,
            "refs": ref_links(ref_type, ref_ids),
            **(_GAP if no_data else {}),
        }
        for value, measure, color, s, sentence, threshold, ref_type, ref_ids, no_data in zip(
            _rounded(rows["value"]).tolist(),
            *(rows[c].tolist() for c in columns),
            ref_ids,
            _no_data(rows).tolist(),
            strict=True,
        )
    ]


# What a no-data row's reason adds; a reason without the key reads a value.
_GAP = {"no_data": True}


def _looked_up(rows: pd.DataFrame, links: LinkLookup | None) -> list[str]:
    """The rows' ref_ids, with each signature replaced by the ids ``links`` finds for it:
    one lookup per measure for all its rows."""
    ref_ids = rows["ref_ids"].tolist()
    deferred = [k for k, r in enumerate(ref_ids) if r.startswith(DEFERRED)]
    if not deferred or links is None:
        return ref_ids
    measures, accounts = rows["measure"].tolist(), rows["account_id"].tolist()
    by_measure: dict[str, list[int]] = {}
    for k in deferred:
        by_measure.setdefault(measures[k], []).append(k)
    for code, ks in by_measure.items():
        found = links(code, [int(accounts[k]) for k in ks])
        for k in ks:
            ref_ids[k] = found.get(int(accounts[k]), "")
    return ref_ids


def _rounded(values: pd.Series) -> np.ndarray:
    """Each value as Python's ``round(v, 4)`` gives it. Rounded as the reason stores it: a
    decaying exposure moves every second, but the stored reason only when its fourth
    decimal does. Python's round, not np.round: on ties (0.43125) they differ, and the
    stored value stays what it always was.

    On arrays all the same: np.round(v, 4) is rint(v × 10⁴) / 10⁴, and away from a tie
    rint finds the same integer k as Python's exact decimal rounding, whose result is
    then the double nearest k / 10⁴ in both (IEEE division rounds correctly). Only values
    within 10⁻⁶ of a tie once scaled (or too large to scale exactly) take Python's round:
    a handful of 170,000, where the list of them all took ~30 ms."""
    v = values.to_numpy(dtype=float)
    out = np.round(v, 4)
    with np.errstate(invalid="ignore"):
        scaled = v * 1e4
        near = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
        near |= np.abs(scaled) >= 2.0**52
    for k in np.flatnonzero(near).tolist():
        out[k] = round(float(v[k]), 4)
    return out


def _row_hashes(rows: pd.DataFrame) -> np.ndarray:
    """A stable 64-bit hash of each measure row as its reason reads (pandas' fixed-key
    SipHash, the same in every process). Summed per area, the order of the rows does not
    matter: it follows from their scores and codes, which are hashed."""

    def text(column: str) -> pd.Series:
        # Object columns, not pandas 3's inferred ``str``: the same hashes in less time
        # (see ``measures._frame``).
        return pd.Series(rows[column].to_numpy(dtype=object), dtype=object, copy=False)

    keyed = pd.DataFrame(
        {
            "measure": text("measure"),
            "value": _rounded(rows["value"]),
            "color": text("color"),
            "score": rows["score"].to_numpy(dtype=int),
            "sentence": text("sentence"),
            "threshold": text("threshold"),
            "ref_type": text("ref_type"),
            "ref_ids": text("ref_ids"),
        }
    )
    hashes = _combined(
        pd.util.hash_array(column.to_numpy(), categorize=True) for _, column in keyed.items()
    )
    return _flagged(hashes, _no_data(rows))


def _combined(hashes: Iterator[np.ndarray]) -> np.ndarray:
    """``pd.util.hash_pandas_object(frame, index=False)`` from its columns' ``hash_array``:
    CPython's tuple hash over them, as pandas combines them (the same numbers; a test holds
    the two equal). Without building the Series and the checks around it (~30 ms of the
    ~130 ms of a full book's row hashes)."""
    arrays = list(hashes)
    out = np.full(len(arrays[0]) if arrays else 0, 0x345678, dtype=np.uint64)
    mult = np.uint64(1000003)
    for i, a in enumerate(arrays):
        inverse = len(arrays) - i
        out ^= a
        out *= mult
        mult += np.uint64(82520 + inverse + inverse)
    return out + np.uint64(97531)


def _overall(
    account_ids: list[int],
    areas: list[AreaInfo],
    rank: np.ndarray,
    score: np.ndarray,
    no_data: np.ndarray,
    head: np.ndarray,
    account_digests: np.ndarray,
) -> list[OverallResult]:
    """The worst area (colour, then lowest score; the first area in order on a tie) and the
    weighted score of every account; a sentence naming the worst area when it is not green
    (``head``: the first reason's sentence of each (account × area) cell)."""
    if not areas:
        return [OverallResult(a, GREEN, 100, 0, "", "All areas are green.") for a in account_ids]
    # The weighted mean of the areas with data (``colour_rule.overall_colour``).
    data_weights = np.where(no_data, 0.0, np.array([a.weight for a in areas], dtype=float))
    total_weight = data_weights.sum(axis=1)
    with_data = (~no_data).any(axis=1)
    mean = (score * data_weights).sum(axis=1) / np.where(total_weight == 0, 1, total_weight)
    weighted = np.where(with_data, np.round(mean), NO_DATA_WEIGHTED).astype(int).tolist()
    gaps = no_data.sum(axis=1).tolist()
    # argmax takes the first maximum, as max() over the areas did.
    worst_at = np.argmax(rank * 1000 - score, axis=1).tolist()
    lowest = score.min(axis=1).tolist()
    digests = account_digests.tolist()
    n = len(areas)
    out = []
    for i, account_id in enumerate(account_ids):
        j = worst_at[i]
        worst_rank = int(rank[i, j])
        if worst_rank == 0:
            names = [areas[k].name for k in np.flatnonzero(no_data[i]).tolist()] if gaps[i] else []
            out.append(
                OverallResult(
                    account_id,
                    GREEN,
                    lowest[i],
                    weighted[i],
                    "",
                    green_reason(names, n),
                    digests[i],
                    gaps[i] == n,
                )
            )
            continue
        color = RANK_COLOR[worst_rank]
        others = [areas[k].name for k in range(n) if k != j and rank[i, k] == worst_rank]
        reason = f"{areas[j].name} is {color}: {head[i * n + j]}"
        if others:
            reason += f" (also {color}: {', '.join(others)})"
        out.append(
            OverallResult(
                account_id,
                color,
                int(score[i, j]),
                weighted[i],
                areas[j].code,
                reason[:500],
                digests[i],
            )
        )
    return out
