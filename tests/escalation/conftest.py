"""Escalation fixtures: a fixed clock (a Monday morning), a flagged CTA, helpers."""

from __future__ import annotations

import datetime as dt

import pytest

from csrisk import clock
from ctas import services as ctas
from ctas.models import Cta
from escalation.models import Escalation
from scorecards.models import AreaScore, Scorecard

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)  # a Monday


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def open_cta(account, by, area: str = "habits", reason: str = "Usage dropping", **kw) -> Cta:
    return ctas.cta_create(account=account, by=by, reason=reason, area=area, **kw)


def flag(cta: Cta, by, reason: str = "Need help with their exec") -> Escalation:
    ctas.cta_flag(cta=cta, by=by, reason=reason)
    return Escalation.objects.get(cta=cta, status="open")


def set_color(account, area: str, color: str, sentence: str = "measured") -> None:
    AreaScore.objects.update_or_create(
        account=account,
        area=area,
        defaults={
            "color": color,
            "score": 20 if color == "red" else 60 if color == "yellow" else 90,
            "computed_color": color,
            "computed_score": 20,
            "reasons": [{"sentence": sentence}],
            "changed_at": NOW,
            "computed_at": NOW,
        },
    )


def set_overall(account, color: str) -> None:
    Scorecard.objects.update_or_create(
        account=account,
        defaults={
            "color": color,
            "score": 20,
            "weighted_score": 40,
            "reason": f"{color} because",
            "worst_area": "habits",
            "changed_at": NOW,
            "computed_at": NOW,
        },
    )


@pytest.fixture
def flagged(org, account_a):
    cta = open_cta(account_a, org.csm_a)
    return flag(cta, org.csm_a)
