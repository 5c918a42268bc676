"""The documented prior: expert weights per measure, used while the book has too few past
churns to learn from (``settings.CSRISK_RISK_MIN_CHURNS``). docs/risk.md gives each
weight's rationale; keep the two in step.

A weight is the log-odds a measure adds when it is fully red (risk 1.0, score 0); a
measure's risk moves it linearly. "No data" adds nothing: missing data is not risk
(PRODUCT.md). ARR adds nothing either. The intercept centres the prior on the base rate:
an account whose every measure reads as the book's renewals read on average churns at the
base rate (the book's own when it has enough renewals, else the documented default).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from insights.risk.features import RISK, parse
from insights.risk.model import Params, logit

# Log-odds at full risk. 1.0 roughly multiplies the odds by 2.7.
WEIGHTS: dict[str, float] = {
    "habits.usage_drop": 1.0,
    "habits.license_utilization": 0.4,
    "habits.adoption_trend": 0.6,
    "sentiment.nps_level": 0.8,
    "sentiment.nps_drop": 0.6,
    "sentiment.csat_level": 0.5,
    "sentiment.csat_drop": 0.4,
    "company.key_contact_left": 1.5,
    "company.title_downgrade": 0.8,
    "company.no_edm": 0.6,
    "company.reorg": 0.4,
    "company.competitor_executive": 0.8,
    "support.noncritical_velocity": 2.0,
    "support.urgent_open": 0.5,
    "support.resolution_time_trend": 0.3,
    "support.backlog_age": 0.3,
    "support.recurrence": 0.3,
    "implementation.late_milestones": 0.5,
    "readiness.assessment": 0.4,
    "product.competitor_exposure": 1.5,
    "defect.open_defects": 0.4,
}
# A measure declared after these weights were written.
DEFAULT_WEIGHT = 0.5
# Renewals needed before the book's own churn rate replaces the documented default.
MIN_RENEWALS_FOR_BASE_RATE = 20


def weight(feature_name: str) -> float:
    f = parse(feature_name)
    return WEIGHTS.get(f.measure, DEFAULT_WEIGHT) if f.kind == RISK else 0.0


def base_rate(n_renewals: int, n_churned: int, default: float) -> float:
    if n_renewals >= MIN_RENEWALS_FOR_BASE_RATE:
        # Never 0 or 1: a book without a churn yet is not a book that cannot churn.
        return min(max(n_churned / n_renewals, 0.01), 0.99)
    return default


def prior(feature_names: Sequence[str], rate: float, x: np.ndarray | None = None) -> Params:
    """The prior's numbers in the learned model's shape (standardisation left out).
    ``x``: the past renewals' features, to centre on (none: centred on all-green)."""
    coef = np.array([weight(f) for f in feature_names])
    centre = x.mean(axis=0) if x is not None and len(x) else np.zeros(len(feature_names))
    return Params(
        features=list(feature_names),
        mean=centre.tolist(),
        scale=[1.0] * len(feature_names),
        coef=coef.tolist(),
        intercept=logit(rate),
    )
