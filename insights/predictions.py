"""Reads of the stored renewal-risk predictions, for the pages that show them.

The model that writes ``RiskPrediction`` rows lives elsewhere in ``insights``; this module
only reads each account's latest prediction: as a frame for the executive summary, and as
queryset annotations for the pages of other apps (the 1:1 review, the cockpit, the account
list), which receive them through the columns registered in ``InsightsConfig.ready()``.

A probability from the documented prior (expert weights) is always shown as such: the
frame carries ``prior`` per account and the annotations ``risk_prior``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast

from insights.models import RiskModel, RiskModelKind, RiskPrediction

# The words every page puts beside a probability that comes from the prior.
PRIOR_NOTE = "expert weights: too few past churns to learn from"
TOP_SHARE = 0.10  # "top decile of risk": the 10% of scored live accounts most likely to churn


@dataclass
class RiskReading:
    """The latest prediction of each live account, and which model stands behind them."""

    # Indexed by account id (live accounts with a latest prediction): probability,
    # expected_loss (float dollars), prior (bool: from the documented prior).
    scored: pd.DataFrame
    model: RiskModel | None  # the active model, when there is one
    n_live: int

    @property
    def n_scored(self) -> int:
        return len(self.scored)

    @property
    def prior(self) -> bool:
        """The figures come from the prior: the active model is the prior, or (no model
        active) every prediction shown was made by it."""
        if self.model is not None:
            return self.model.kind == RiskModelKind.PRIOR
        return bool(self.n_scored) and bool(self.scored["prior"].all())

    @property
    def n_prior(self) -> int:
        return int(self.scored["prior"].sum()) if self.n_scored else 0

    @property
    def total_expected_loss(self) -> Decimal:
        return Decimal(f"{float(self.scored['expected_loss'].sum()):.2f}")

    def top_threshold(self) -> float | None:
        """The lowest probability in the top decile of the scored book (at least one
        account), or None when nothing is scored."""
        if not self.n_scored:
            return None
        ranked = np.sort(self.scored["probability"].to_numpy())[::-1]
        return float(ranked[max(math.ceil(len(ranked) * TOP_SHARE), 1) - 1])


def active_model() -> RiskModel | None:
    return RiskModel.objects.filter(active=True).first()


@lru_cache(maxsize=2)
def _latest_sql(vendor: str) -> tuple[str, tuple]:
    """Every latest prediction as (account, probability, expected loss, from the prior):
    straight from the cursor, so the ORM writes the SQL (once: its compile cost ~1 ms a
    page) and its per-row converters (10,000 rows × 4 columns of plain numbers) are
    skipped."""
    query = (
        RiskPrediction.objects.filter(latest=True)
        .order_by()
        .values_list(
            "account_id",
            "probability",
            Cast("expected_loss", FloatField()),
            Case(
                When(model__kind=RiskModelKind.PRIOR, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )
    sql, params = query.query.sql_with_params()
    return sql, tuple(params)


def risk_reading(live_ids: pd.Index) -> RiskReading:
    """The latest predictions of the accounts in ``live_ids``: one query, and one more for
    the active model when any is scored."""
    sql, params = _latest_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    frame = pd.DataFrame(
        {
            "probability": np.asarray([r[1] for r in rows], dtype=float),
            "expected_loss": np.asarray([r[2] for r in rows], dtype=float),
            "prior": np.asarray([bool(r[3]) for r in rows], dtype=bool),
        },
        index=pd.Index(np.asarray([r[0] for r in rows], dtype=np.int64), name="account_id"),
    )
    frame = frame[frame.index.isin(live_ids)]  # churned accounts keep old rows: not live
    # Which model stands behind the figures matters only when there are figures.
    model = active_model() if len(frame) else None
    return RiskReading(scored=frame, model=model, n_live=len(live_ids))


def reason_words(reasons: Any, limit: int = 3) -> list[str]:
    """What pushes a prediction up, in words, in the order the model stored them: a
    reason's ``text`` (the scoring writes only the features that raise the risk), a plain
    sentence, or else the ``label`` of a feature whose ``points`` or ``contribution`` is
    positive, the largest first."""
    if not isinstance(reasons, list):
        return []
    words = [
        r["text"] if isinstance(r, dict) else r
        for r in reasons
        if (isinstance(r, dict) and r.get("text")) or (isinstance(r, str) and r.strip())
    ]
    if words:
        return [str(w) for w in words[:limit]]

    def weight(r: dict) -> float:
        value = r.get("points", r.get("contribution"))
        return float(value) if isinstance(value, int | float) else 0.0

    pushing = [r for r in reasons if isinstance(r, dict) and r.get("label") and weight(r) > 0]
    pushing.sort(key=lambda r: -weight(r))
    return [str(r["label"]) for r in pushing[:limit]]


def latest_details(account_ids: list[int]) -> dict[int, tuple[list[str], dt.datetime]]:
    """Reasons (in words) and computation time of these accounts' latest predictions: one
    query, for the handful a page explains (blind spots), not the whole book."""
    return {
        account_id: (reason_words(reasons), at)
        for account_id, reasons, at in RiskPrediction.objects.filter(
            latest=True, account_id__in=account_ids
        ).values_list("account_id", "reasons", "computed_at")
    }


def annotate_latest(queryset: QuerySet, account: str = "pk") -> QuerySet:
    """Each row with its account's latest prediction (``risk_probability``,
    ``risk_expected_loss``, ``risk_band``, ``risk_prior``) as subqueries: no extra query
    for a list, and rows of unscored accounts get NULL. ``account`` names the field that
    holds the account's id (``pk`` on accounts, ``account_id`` on CTAs)."""
    latest = RiskPrediction.objects.filter(account_id=OuterRef(account), latest=True).order_by()
    return queryset.annotate(
        risk_probability=Subquery(latest.values("probability")[:1]),
        risk_expected_loss=Subquery(latest.values("expected_loss")[:1]),
        risk_band=Subquery(latest.values("band")[:1]),
        risk_prior=Subquery(
            latest.annotate(
                is_prior=Case(
                    When(model__kind=RiskModelKind.PRIOR, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            ).values("is_prior")[:1]
        ),
    )


def by_expected_loss(*tiebreak: Any) -> tuple[Any, ...]:
    """order_by terms: the largest expected loss first, unscored rows last."""
    return (F("risk_expected_loss").desc(nulls_last=True), *tiebreak)
