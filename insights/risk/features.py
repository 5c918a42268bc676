"""The risk model's features, built from the measure declarations and nothing else.

Per enabled measure (``scorecards.measures.DECLARED``, as configured): its risk
(100 − its 0–100 score, scaled to 0–1) and whether it had no data (a gap, not a reading),
then the log of the ARR at stake. Training reads them from the backtest's point-in-time
rows (``insights.backtest.history``), scoring from the measure rows a recompute just
computed: both go through ``matrix``, so the two can never disagree on a column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from insights.backtest import Row
from scorecards import selectors as sc_selectors
from scorecards.measures import enabled

RISK, GAP = "risk", "no_data"
LOG_ARR = "log_arr"


@dataclass(frozen=True)
class Feature:
    name: str  # "<measure code>:risk", "<measure code>:no_data" or "log_arr"
    measure: str  # the measure code ("" for log_arr)
    kind: str  # RISK, GAP or LOG_ARR


def measure_codes() -> list[str]:
    """The enabled measures, in their configured order."""
    return [t.code for t in enabled(sc_selectors.thresholds())]


def feature_list(codes: Sequence[str]) -> list[Feature]:
    out = [Feature(f"{c}:{kind}", c, kind) for c in codes for kind in (RISK, GAP)]
    return [*out, Feature(LOG_ARR, "", LOG_ARR)]


def names(codes: Sequence[str]) -> list[str]:
    return [f.name for f in feature_list(codes)]


def parse(name: str) -> Feature:
    if name == LOG_ARR:
        return Feature(LOG_ARR, "", LOG_ARR)
    code, kind = name.rsplit(":", 1)
    return Feature(name, code, kind)


def log_arr(arr: float) -> float:
    # log1p: an account on a free plan (ARR 0) is still a number.
    return math.log1p(max(float(arr), 0.0))


def matrix(
    keys: Sequence[int],
    long: pd.DataFrame,
    arr: Sequence[float],
    feature_names: Sequence[str],
) -> np.ndarray:
    """One row per key (an index into ``keys``' order), one column per feature.

    ``long`` holds the measure readings: columns key, measure, score (0–100, 100 best) and
    no_data. A measure without a reading for a key (disabled then, or new since) reads as
    risk 0 with data: it adds nothing either way.
    """
    n = len(keys)
    features = [parse(f) for f in feature_names]
    column = {f.name: j for j, f in enumerate(features)}
    out = np.zeros((n, len(features)), dtype=float)
    if not long.empty:
        row = pd.Index(keys).get_indexer(long["key"].to_numpy())
        measures = long["measure"].to_numpy(dtype=object)
        risk = (100.0 - long["score"].to_numpy(dtype=float)) / 100.0
        gap = long["no_data"].to_numpy(dtype=bool).astype(float)
        # One lookup per distinct measure, not per row (200,000 rows on a 10,000 book).
        at, codes = pd.factorize(measures)
        for kind, values in ((RISK, risk), (GAP, gap)):
            col = np.array([column.get(f"{m}:{kind}", -1) for m in codes], dtype=int)[at]
            keep = (row >= 0) & (col >= 0)
            out[row[keep], col[keep]] = values[keep]
    if LOG_ARR in column:
        out[:, column[LOG_ARR]] = [log_arr(a) for a in arr]
    return out


def from_rows(rows: Sequence[Row], feature_names: Sequence[str]) -> np.ndarray:
    """The features of the backtest's point-in-time rows (one row each)."""
    keys, measures, scores, gaps = [], [], [], []
    for i, r in enumerate(rows):
        for code, risk in r.risks.items():
            keys.append(i)
            measures.append(code)
            scores.append(100.0 - risk)
            gaps.append(bool(r.no_data.get(code, False)))
    long = pd.DataFrame({"key": keys, "measure": measures, "score": scores, "no_data": gaps})
    return matrix(list(range(len(rows))), long, [r.arr for r in rows], feature_names)


def from_measured(
    account_ids: Sequence[int], measured: pd.DataFrame, arr: Sequence[float], feature_names
) -> np.ndarray:
    """The features of live accounts from measure rows (``scorecards.measures.run_measures``
    or a recompute's), one row per account in ``account_ids``."""
    long = measured[["account_id", "measure", "score", "no_data"]].rename(
        columns={"account_id": "key"}
    )
    return matrix(list(account_ids), long, arr, feature_names)
