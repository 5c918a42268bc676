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
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

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
    rank_sum = float(rankdata(s)[y].sum())
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


def bootstrap(
    statistic: Callable[[np.ndarray], float | None],
    n: int,
    rounds: int = BOOTSTRAP,
    seed: int = SEED,
) -> Interval | None:
    """Seeded percentile 95% interval of ``statistic(indices)`` over renewals resampled
    with replacement; rounds where it is undefined are skipped. Reproducible."""
    if n == 0 or statistic(np.arange(n)) is None:
        return None
    rng = np.random.default_rng(seed)
    values = []
    for idx in rng.integers(0, n, size=(rounds, n)):
        value = statistic(idx)
        if value is not None:
            values.append(value)
    if not values:
        return None
    values.sort()
    return (values[int(0.025 * (len(values) - 1))], values[int(0.975 * (len(values) - 1))])


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
