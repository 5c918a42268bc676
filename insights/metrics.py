"""The backtest's arithmetic: plain functions over plain arrays, no ORM.

``labels`` are the renewals' outcomes (True = churned), ``risks`` the signal's value at the
reading (higher = riskier: 100 − a measure's score, or a probability), ``flags`` whether the
signal flagged the renewal and ``weights`` its ARR. Each metric is None when it is not
defined (no churned renewal, or no kept one). The definitions are scikit-learn's
(``roc_auc_score``, ``average_precision_score``, ``brier_score_loss``); the tests prove
these equal to it. They are written out here because the bootstrap calls them thousands of
times, and scikit-learn's input checks cost more than the sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

BOOTSTRAP = 200
SEED = 7
Interval = tuple[float, float]


def wilson(successes: int, n: int, z: float = 1.96) -> Interval | None:
    """Wilson score interval of a proportion; None when n is 0."""
    if n == 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _arrays(labels: Sequence[bool], values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(labels, dtype=bool), np.asarray(values, dtype=float)


def auc(labels: Sequence[bool], risks: Sequence[float]) -> float | None:
    """ROC AUC by Mann–Whitney: the chance a churned renewal outranks a kept one (ties ½)."""
    y, s = _arrays(labels, risks)
    pos = int(y.sum())
    neg = len(y) - pos
    if not pos or not neg:
        return None
    # Average ranks (ties share the mean of their ranks), 1-based.
    _, group, counts = np.unique(s, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[group]
    rank_sum = float(ranks[y].sum())
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def average_precision(labels: Sequence[bool], risks: Sequence[float]) -> float | None:
    """PR-AUC as average precision: Σ (recallₖ − recallₖ₋₁) · precisionₖ over the distinct
    risk values from the highest down (renewals of one value enter together). A signal
    that knows nothing scores the base churn rate, not 0.5."""
    y, s = _arrays(labels, risks)
    pos = int(y.sum())
    if not pos or pos == len(y):
        return None
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    # The last index of each run of equal values: every renewal at a value is in or out.
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    tps = np.cumsum(y)[last]
    precision = tps / (last + 1)
    recall = tps / pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def brier(labels: Sequence[bool], probabilities: Sequence[float]) -> float | None:
    """Mean squared gap between the probability and what happened (0 perfect; 0.25 is a
    constant ½). Only for probabilities; None without renewals."""
    y, p = _arrays(labels, probabilities)
    if not len(y):
        return None
    return float(np.mean((p - y) ** 2))


def weighted_recall(
    labels: Sequence[bool], flags: Sequence[bool], weights: Sequence[float]
) -> float | None:
    """Share of the churned ARR that the signal flagged; None when no ARR churned."""
    y, w = _arrays(labels, weights)
    f = np.asarray(flags, dtype=bool)
    lost = float(w[y].sum())
    if lost <= 0:
        return None
    return float(w[y & f].sum()) / lost


# --- the bootstrap: every resample at once ------------------------------------------------
# Drawing n renewals with replacement is the same as giving each renewal a multinomial
# count. With the counts as weights every metric above becomes a few matrix sums over all
# resamples at once, instead of thousands of calls; tests prove each equal to its reference
# above on the expanded resample.


def resample_weights(n: int, rounds: int = BOOTSTRAP, seed: int = SEED) -> np.ndarray:
    """(rounds × n) draw counts of each renewal per resample; seeded, so reproducible."""
    if n == 0:
        return np.zeros((rounds, 0))
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, np.full(n, 1 / n), size=rounds).astype(float)


def _grouped(
    labels: np.ndarray, risks: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted churned and kept counts per distinct risk value, ascending: (rounds × k)."""
    _, group = np.unique(risks, return_inverse=True)
    onehot = np.eye(group.max() + 1)[group] if len(group) else np.zeros((0, 0))
    return (weights * labels) @ onehot, (weights * ~labels) @ onehot


def auc_many(labels: Sequence[bool], risks: Sequence[float], weights: np.ndarray) -> np.ndarray:
    """``auc`` of each weighted resample (NaN where undefined)."""
    y, s = _arrays(labels, risks)
    pos, neg = _grouped(y, s, weights)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + neg / 2)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))


def average_precision_many(
    labels: Sequence[bool], risks: Sequence[float], weights: np.ndarray
) -> np.ndarray:
    """``average_precision`` of each weighted resample (NaN where undefined)."""
    y, s = _arrays(labels, risks)
    pos, neg = _grouped(y, s, weights)
    pos, neg = pos[:, ::-1], neg[:, ::-1]  # highest risk first
    tps = np.cumsum(pos, axis=1)
    seen = np.cumsum(pos + neg, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(seen > 0, tps / np.where(seen > 0, seen, 1), 0.0)
        out = (pos * precision).sum(axis=1) / pos.sum(axis=1)
    out[(pos.sum(axis=1) == 0) | (neg.sum(axis=1) == 0)] = np.nan
    return out


def brier_many(
    labels: Sequence[bool], probabilities: Sequence[float], weights: np.ndarray
) -> np.ndarray:
    """``brier`` of each weighted resample."""
    y, p = _arrays(labels, probabilities)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights * (p - y) ** 2).sum(axis=1) / weights.sum(axis=1)


def weighted_recall_many(
    labels: Sequence[bool], flags: Sequence[bool], arr: Sequence[float], weights: np.ndarray
) -> np.ndarray:
    """``weighted_recall`` of each weighted resample (NaN where no ARR churned)."""
    y, w = _arrays(labels, arr)
    f = np.asarray(flags, dtype=bool)
    lost = (weights * (w * y)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(lost > 0, (weights * (w * (y & f))).sum(axis=1) / lost, np.nan)


def interval(values: np.ndarray, point: float | None) -> Interval | None:
    """Percentile 95% interval of the resamples' values, skipping undefined ones; None
    when the figure itself is undefined."""
    if point is None:
        return None
    kept = np.sort(values[~np.isnan(values)])
    if not len(kept):
        return None
    return (float(kept[int(0.025 * (len(kept) - 1))]), float(kept[int(0.975 * (len(kept) - 1))]))


def calibration(
    labels: Sequence[bool], risks: Sequence[float], bins: int = 10, probability: bool = True
) -> list[dict[str, float | int | None]]:
    """Predicted vs observed by decile of the signal's value (fewer groups when many
    renewals share a value). ``predicted`` is the mean probability of the group, or None
    for a 0–100 score, which is a ranking, not a probability."""
    y, s = _arrays(labels, risks)
    if not len(y):
        return []
    groups = pd.qcut(pd.Series(s).rank(method="min"), q=bins, labels=False, duplicates="drop")
    table = []
    for g in sorted(set(groups.dropna().astype(int))):
        mask = (groups == g).to_numpy()
        n = int(mask.sum())
        churned = int(y[mask].sum())
        table.append(
            {
                "low": float(s[mask].min()),
                "high": float(s[mask].max()),
                "n": n,
                "churned": churned,
                "predicted": float(s[mask].mean()) if probability else None,
                "observed": churned / n,
            }
        )
    return table
