"""factory_boy factories for renewal-risk models and their predictions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory

from insights.models import RiskBand, RiskModel, RiskModelKind, RiskPrediction
from tests.factories import AccountFactory


class RiskModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskModel

    version = factory.Sequence(lambda n: f"risk-{n}")
    kind = RiskModelKind.LEARNED
    trained_at = factory.LazyFunction(lambda: dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    n_renewals = 120
    n_churned = 25
    active = True


def _band(probability: float) -> str:
    return (
        RiskBand.HIGH
        if probability >= 0.3
        else RiskBand.MEDIUM
        if probability >= 0.1
        else RiskBand.LOW
    )


class RiskPredictionFactory(factory.django.DjangoModelFactory):
    """The latest prediction of an account; expected loss is probability × the account's ARR."""

    class Meta:
        model = RiskPrediction

    account = factory.SubFactory(AccountFactory)
    model = factory.LazyFunction(
        lambda: RiskModel.objects.filter(active=True).first() or RiskModelFactory()
    )
    computed_at = factory.LazyFunction(lambda: dt.datetime(2026, 6, 14, 6, 0, tzinfo=dt.UTC))
    probability = 0.2
    expected_loss = factory.LazyAttribute(
        lambda p: (p.account.arr * Decimal(str(p.probability))).quantize(Decimal("0.01"))
    )
    band = factory.LazyAttribute(lambda p: _band(p.probability))
    horizon_days = 90
    renewal_date = factory.LazyAttribute(lambda p: p.account.renewal_date)
    reasons = factory.LazyFunction(
        lambda: [
            {
                "feature": "velocity",
                "label": "non-critical tickets up 40%",
                "value": 0.4,
                "contribution": 0.8,
            },
            {
                "feature": "usage",
                "label": "weekly active users down",
                "value": -0.2,
                "contribution": 0.3,
            },
            {"feature": "nps", "label": "NPS promoter", "value": 9, "contribution": -0.5},
        ]
    )
    latest = True
