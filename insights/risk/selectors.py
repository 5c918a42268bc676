"""Reads of the renewal-risk model: an account's latest prediction and its trend, and the
prefetch that keeps the account API's query count constant."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from accounts.choices import LifecycleStage
from insights.models import RiskModelKind, RiskPrediction

# The version prefix of the prior made before any training (services.active_model).
DEFAULT_PRIOR = "prior-default"

TREND_POINTS = 6
# Probability moves smaller than this (in points) are "same": noise, not news.
TREND_SAME_POINTS = 1.0


@dataclass(frozen=True)
class TrendPoint:
    computed_at: Any
    probability: float
    direction: str  # "worse", "better", "same", or "" for the first point
    new_model: bool = False  # scored by another model than the point before (not news)


def is_live(account: Any) -> bool:
    return account.lifecycle_stage != LifecycleStage.CHURNED


def prior_notice(prediction: RiskPrediction) -> str:
    """What the page and API say when the probability comes from the prior."""
    m = prediction.model
    if m.kind != RiskModelKind.PRIOR:
        return ""
    needed = m.metrics.get("min_churns", settings.CSRISK_RISK_MIN_CHURNS)
    if m.version.startswith(DEFAULT_PRIOR):
        return (
            "Not trained on this book's renewals yet (manage.py train_risk, or the weekly "
            "run): expert weights, not learned."
        )
    return f"Too few past churns ({m.n_churned} < {needed}): expert weights, not learned."


def latest_prediction(account: Any) -> RiskPrediction | None:
    """The account's current prediction (None for a churned account or before any);
    reads the prefetch of ``prefetch_risk`` when the account carries it."""
    if not is_live(account):
        return None
    found = getattr(account, "latest_risk", None)
    if found is None:
        found = list(
            RiskPrediction.objects.filter(account=account, latest=True).select_related("model")
        )
    return found[0] if found else None


def recent_predictions(account: Any, points: int = TREND_POINTS) -> list[RiskPrediction]:
    """The account's last predictions with their models, newest first, in one query (the
    latest prediction always has the newest ``computed_at``: scoring writes it last)."""
    return list(
        RiskPrediction.objects.filter(account=account)
        .select_related("model")
        .order_by("-computed_at", "-pk")[:points]
    )


def trend(recent: list[RiskPrediction]) -> list[TrendPoint]:
    """``recent_predictions`` oldest first, each marked worse/better/same than the one
    before."""
    rows = [(p.computed_at, p.probability, p.model_id) for p in reversed(recent)]
    out: list[TrendPoint] = []
    for i, (at, p, model_id) in enumerate(rows):
        if i == 0:
            direction = ""
        else:
            delta = (p - rows[i - 1][1]) * 100
            direction = (
                "same" if abs(delta) < TREND_SAME_POINTS else ("worse" if delta > 0 else "better")
            )
        out.append(TrendPoint(at, p, direction, i > 0 and model_id != rows[i - 1][2]))
    return out


def prefetch_risk(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related(
        Prefetch(
            "risk_predictions",
            queryset=RiskPrediction.objects.filter(latest=True).select_related("model"),
            to_attr="latest_risk",
        )
    )
