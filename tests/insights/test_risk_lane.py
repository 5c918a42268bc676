"""The renewal-risk model's top band reaches the VP's level-2 lane."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from csrisk import clock
from escalation.services.suggestions import level_two_reasons
from insights.models import RiskModel, RiskPrediction


def _predict(account, band: str, kind: str = "learned") -> RiskPrediction:
    model = RiskModel.objects.create(
        version=f"{kind}-test", kind=kind, trained_at=clock.now(), active=True
    )
    return RiskPrediction.objects.create(
        account=account,
        model=model,
        computed_at=clock.now(),
        probability=0.34 if band == "high" else 0.05,
        expected_loss=Decimal("1000"),
        band=band,
        horizon_days=120,
        renewal_date=clock.today() + dt.timedelta(days=120),
        reasons=[{"text": "28 non-critical tickets in the last 90 days vs 10 before: +12 points"}],
    )


def test_it_names_a_high_risk_account_for_level_two(org, account_a, account_b):
    _predict(account_a, "high")
    reasons = level_two_reasons([account_a.pk, account_b.pk])
    top = [r for r in reasons[account_a.pk] if r[0] == "risk_top_band"]
    assert len(top) == 1
    _, level, sentence, basis = top[0]
    assert level == 2 and basis.startswith("risk-high:")
    assert sentence.startswith("Renewal risk 34%, high band: 28 non-critical tickets")
    assert not [r for r in reasons.get(account_b.pk, []) if r[0] == "risk_top_band"]


def test_it_says_when_the_band_comes_from_the_prior(org, account_a):
    _predict(account_a, "high", kind="prior")
    (top,) = [r for r in level_two_reasons([account_a.pk])[account_a.pk] if r[0] == "risk_top_band"]
    assert "expert weights" in top[2]


def test_a_low_band_is_no_reason(org, account_a):
    _predict(account_a, "low")
    assert not [
        r for r in level_two_reasons([account_a.pk])[account_a.pk] if r[0] == "risk_top_band"
    ]
