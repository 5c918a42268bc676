"""The renewal-risk model learns what drives churn, point-in-time, calibrated."""

from __future__ import annotations

import datetime as dt
import math
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from accounts.models import CompetitorEvent
from csrisk import clock
from insights import backtest, metrics
from insights.models import RiskModel, RiskModelKind, RiskPrediction
from insights.risk import features, prior, rolling_origin_probabilities
from insights.risk.model import Params, logit
from insights.risk.services import fit_rows, risk_model_train, risk_score
from tests.conftest import login
from tests.insights.risk_books import RENEWALS, planted_book

CODE = "product.competitor_exposure"


@pytest.fixture
def planted(org):
    return planted_book(org.csm_a, lead_days=100)


@pytest.mark.slow
def test_it_finds_the_planted_signal(planted, settings):
    m = risk_model_train()
    assert m.kind == RiskModelKind.LEARNED and m.active
    assert m.n_renewals == len(planted) and m.n_churned >= 30
    coef = dict(zip(m.features, m.parameters["coef"], strict=True))
    top = max(coef, key=lambda f: abs(coef[f]))
    assert top == f"{CODE}:risk" and coef[top] > 0
    assert m.metrics["cross_validated"]["auc"] > 0.75
    assert m.metrics["calibrated"] is True


def test_it_explains_a_live_account_by_the_planted_signal(planted, org):
    risk_model_train()
    exposed = planted[0].__class__.objects.create(name="Fresh", arr=100_000, owner=org.csm_a)
    calm = planted[0].__class__.objects.create(name="Calm", arr=100_000, owner=org.csm_a)
    CompetitorEvent.objects.create(
        account=exposed,
        competitor="Rival",
        activity="evaluation",
        occurred_at=clock.now() - dt.timedelta(days=10),
    )
    risk_score([exposed.pk, calm.pk])
    hot = RiskPrediction.objects.get(account=exposed, latest=True)
    cold = RiskPrediction.objects.get(account=calm, latest=True)
    assert hot.probability > 0.4 > 0.2 > cold.probability
    assert hot.reasons[0]["feature"] == f"{CODE}:risk"
    assert hot.reasons[0]["text"].startswith("Evaluation of Rival")
    assert hot.reasons[0]["text"].endswith(" points")
    assert hot.expected_loss == pytest.approx(100_000 * hot.probability, abs=0.01)
    assert hot.band == "high" and cold.band != "high"


def _auc(rows, probabilities) -> float:
    return metrics.auc([r.churned for r in rows], probabilities)


def test_it_scores_past_renewals_only_with_what_was_known_then(planted, settings):
    settings.CSRISK_RISK_MIN_CHURNS = 10
    rows = backtest.history(90)
    probabilities = rolling_origin_probabilities(rows)
    assert all(p is not None for p in probabilities)
    # The first renewals were read when nothing was known: the documented prior at the
    # default base rate, logit(p) = logit(0.10) + Σ weight × risk (docs/risk.md).
    codes = features.measure_codes()
    for r, p in zip(rows, probabilities, strict=True):
        if r.renewal_date == RENEWALS[0]:
            z = logit(0.10) + sum(prior.WEIGHTS[c] * r.risks[c] / 100 for c in codes)
            assert p == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-9)
    assert _auc(rows, probabilities) > 0.75


def test_it_cannot_see_a_signal_that_moved_after_t_minus_90(org, settings):
    """The same book, but each evaluation came 30 days before the renewal: after T-90.
    Point-in-time, the model has nothing to go on: it scores at chance."""
    settings.CSRISK_RISK_MIN_CHURNS = 10
    planted_book(org.csm_a, lead_days=30)
    rows = backtest.history(90)
    assert not any(r.risks[CODE] for r in rows)
    assert _auc(rows, rolling_origin_probabilities(rows)) == pytest.approx(0.5, abs=0.05)
    # Read at T-14 the evaluation is on record and the same model sees it.
    rows30 = backtest.history(14)
    assert _auc(rows30, rolling_origin_probabilities(rows30)) > 0.75


def test_it_never_trains_on_a_renewal_from_the_future(org, settings):
    """A row's probability must not change when outcomes after its as-of date change."""
    settings.CSRISK_RISK_MIN_CHURNS = 5
    planted_book(org.csm_a, lead_days=100)
    rows = backtest.history(90)
    before = rolling_origin_probabilities(rows)
    last = max(r.renewal_date for r in rows)
    flipped = [
        backtest.Row(**{**r.__dict__, "churned": not r.churned}) if r.renewal_date == last else r
        for r in rows
    ]
    after = rolling_origin_probabilities(flipped)
    assert before == after  # the last renewals were never known when anyone was read


def test_it_computes_a_hand_checked_probability():
    # z = -1 + 2·(3 − 1)/2 = 1; calibrated p = 1 / (1 + exp(−1.5·1 + 0.5)) = 1/(1+e^−1).
    params = Params(
        ["a"], mean=[1.0], scale=[2.0], coef=[2.0], intercept=-1.0, calibration=(-1.5, 0.5)
    )
    p, points = params.contributions(np.array([[3.0]]))
    assert p[0] == pytest.approx(0.731059, abs=1e-6)
    # Without the feature (at its mean) z = −1: p = 1/(1 + exp(1.5 + 0.5)) = 0.119203.
    assert points[0, 0] == pytest.approx(0.731059 - 0.119203, abs=1e-6)
    assert Params.from_json(params.as_json()) == params


def test_it_is_calibrated_on_a_book_with_known_rates(db, settings):
    """Two groups of 300 renewals: 10% churn in one, 50% in the other. A calibrated model
    says about 10% and 50%."""
    rng = np.random.default_rng(1)
    rows = []
    for group, rate in ((0, 0.10), (1, 0.50)):
        churned = np.zeros(300, dtype=bool)
        churned[: int(300 * rate)] = True
        rng.shuffle(churned)
        for c in churned:
            rows.append(
                backtest.Row(0, dt.date(2025, 1, 1), bool(c), {}, {CODE: 100.0 * group}, arr=1000)
            )
    fit = fit_rows(rows, [f"{CODE}:risk"])
    assert fit.kind == RiskModelKind.LEARNED and fit.params.calibration is not None
    p = fit.params.probability(np.array([[0.0], [1.0]]))
    assert p[0] == pytest.approx(0.10, abs=0.03)
    assert p[1] == pytest.approx(0.50, abs=0.03)


def test_it_uses_the_documented_prior_with_too_few_churns(org, settings):
    settings.CSRISK_RISK_MIN_CHURNS = 10_000
    accounts = planted_book(org.csm_a, per_date=5)
    m = risk_model_train()
    settings.CSRISK_RISK_MIN_CHURNS = 30  # the notice quotes the threshold it trained under
    page = login(org.csm_a).get(f"/accounts/{accounts[0].pk}/").content.decode()
    assert f"Too few past churns ({m.n_churned} &lt; 10000): expert weights" in page
    assert m.kind == RiskModelKind.PRIOR and m.version.startswith("prior-")
    coef = dict(zip(m.features, m.parameters["coef"], strict=True))
    assert coef[f"{CODE}:risk"] == 1.5  # docs/risk.md's weight
    assert coef[f"{CODE}:no_data"] == 0.0 and coef["log_arr"] == 0.0
    # Centred on the book's base rate: a renewal read as the book reads on average.
    rate = m.n_churned / m.n_renewals
    assert m.metrics["base_rate"] == pytest.approx(rate, abs=1e-4)
    assert 1 / (1 + np.exp(-m.parameters["intercept"])) == pytest.approx(rate)


def test_it_falls_back_to_the_default_base_rate_before_any_renewal(org, account_a, settings):
    risk_score([account_a.pk])
    p = RiskPrediction.objects.get(account=account_a, latest=True)
    assert p.model.kind == RiskModelKind.PRIOR and p.model.active
    assert p.model.version.startswith("prior-default")
    assert p.model.metrics["base_rate"] == settings.CSRISK_RISK_DEFAULT_BASE_RATE
    # Weights are never negative and the default prior is centred on all-green: the base
    # rate is the floor, and anything that reads as risk adds to it.
    assert p.probability >= settings.CSRISK_RISK_DEFAULT_BASE_RATE


@pytest.mark.slow
def test_the_train_risk_command_trains_activates_and_keeps_history(planted):
    out = StringIO()
    call_command("train_risk", stdout=out)
    first = RiskModel.objects.get(active=True)
    assert first.version in out.getvalue() and "live accounts scored" in out.getvalue()
    call_command("train_risk", stdout=StringIO())
    # Same renewals, same numbers (seeded folds): the active model stays, nothing repeats.
    assert RiskModel.objects.get(active=True).pk == first.pk
    n = len(planted)
    assert RiskPrediction.objects.filter(latest=True).count() == n
    assert RiskPrediction.objects.count() == n
    # A new outcome: a new model; the old one stays (its predictions point at it), inactive.
    planted[0].renewals.update(
        outcome="renewed" if planted[0].renewals.get().outcome == "churned" else "churned"
    )
    call_command("train_risk", stdout=StringIO())
    second = RiskModel.objects.get(active=True)
    assert second.pk != first.pk and RiskModel.objects.filter(pk=first.pk, active=False).exists()
    assert RiskPrediction.objects.filter(latest=True).count() == n
    assert RiskPrediction.objects.count() == 2 * n  # history kept, one latest per account


def test_it_never_gives_a_gap_in_the_data_as_a_reason(db):
    # A learned model may weigh "no NPS answers"; the page must not say "act on it".
    import pandas as pd

    from insights.risk import services as risk_services
    from insights.risk.model import Params

    names = ["sentiment.nps_level:risk", "sentiment.nps_level:no_data", "log_arr"]
    params = Params(
        features=names, mean=[0.0, 0.0, 0.0], scale=[1.0] * 3, coef=[2.0, 3.0, 0.0], intercept=-2
    )
    x = np.array([[0.5, 1.0, 10.0]])
    points = x * np.array(params.coef) / 100 * 100  # both push the probability up
    measured = pd.DataFrame(
        {"account_id": [1], "measure": ["sentiment.nps_level"], "sentence": ["NPS 5 on 3 answers"]}
    )
    reasons = risk_services._reasons([1], measured, [1000.0], params, x, points)
    texts = reasons.texts(0)
    assert texts and all("no data" not in t for t in texts), texts
    assert texts[0].startswith("NPS 5 on 3 answers")
