"""The signal backtest on a hand-made history with known answers, and no leakage."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import CompetitorEvent, RenewalOutcome
from insights import backtest
from tests.conftest import login
from tests.factories import AccountFactory

RENEWAL = dt.date(2026, 3, 1)
AS_OF = dt.datetime(2025, 12, 1, tzinfo=dt.UTC)  # T-90
CODE = "product.competitor_exposure"


@pytest.fixture
def history(org):
    """Six renewals: churned 1, 2, 4; renewed 3, 5, 6. Competitor evaluations 10 days before
    T-90 at 1, 2 and 3. Account 4's evaluation came on 15 January: after T-90 (1 December),
    so at T-90 nobody could have seen it."""
    accounts = [AccountFactory(name=f"H{i}", owner=org.csm_a) for i in range(1, 7)]
    outcomes = ["churned", "churned", "renewed", "churned", "renewed", "downsold"]
    for account, outcome in zip(accounts, outcomes, strict=True):
        RenewalOutcome.objects.create(account=account, renewal_date=RENEWAL, outcome=outcome)
    for account in accounts[:3]:
        CompetitorEvent.objects.create(
            account=account,
            competitor="Rival",
            activity="evaluation",
            occurred_at=AS_OF - dt.timedelta(days=10),
        )
    CompetitorEvent.objects.create(
        account=accounts[3],
        competitor="Rival",
        activity="evaluation",
        occurred_at=dt.datetime(2026, 1, 15, tzinfo=dt.UTC),
    )
    return accounts


def result(results, signal):
    return next(r for r in results if r.signal == signal)


def test_it_scores_a_signal_with_known_precision_recall_lift_and_auc(history):
    r = result(backtest.backtest(90), CODE)
    assert (r.n, r.positives, r.flagged, r.true_positives) == (6, 3, 3, 2)
    assert r.precision == pytest.approx(2 / 3)
    assert r.recall == pytest.approx(2 / 3)
    assert r.lift == pytest.approx((2 / 3) / 0.5)
    # Risks: churned (x, x, 0) vs kept (x, 0, 0): 4 wins and 4 ties of 9 pairs → 6/9.
    assert r.auc == pytest.approx(6 / 9)
    low, high = r.recall_ci
    assert low < 2 / 3 < high


def test_it_never_lets_a_later_fact_leak_into_the_past(history):
    rows = {row.account_id: row for row in backtest.history(90)}
    assert rows[history[3].pk].flags[CODE] is False  # its evaluation came after T-90
    # At T-30 the same evaluation existed, and account 4 is flagged: the answer changes.
    r30 = result(backtest.backtest(30), CODE)
    assert (r30.true_positives, r30.recall) == (3, 1.0)


def test_it_knows_the_textbook_figures():
    assert backtest.auc([True, True, False, False], [0.9, 0.4, 0.5, 0.1]) == 0.75
    assert backtest.auc([True, True], [1, 2]) is None
    low, high = backtest.wilson(2, 3)
    assert (round(low, 4), round(high, 4)) == (0.2077, 0.9385)
    assert backtest.wilson(0, 0) is None
    ci = backtest.auc_interval([True, True, False, False], [0.9, 0.4, 0.5, 0.1])
    assert 0 <= ci[0] <= 0.75 <= ci[1] <= 1


def test_it_prints_the_contract_json(history):
    out = StringIO()
    call_command("backtest", "--json", "--horizon-days", "90", stdout=out)
    data = json.loads(out.getvalue())
    assert isinstance(data, list) and data
    for item in data:
        assert set(item) == {"signal", "horizon_days", "auc", "precision", "recall", "lift", "n"}
        assert item["horizon_days"] == 90 and item["n"] == 6
    assert data[-1]["signal"] == "composite"
    assert next(i for i in data if i["signal"] == CODE)["auc"] == round(6 / 9, 4)


def test_it_prints_a_table_and_a_plain_reading(history):
    out = StringIO()
    call_command("backtest", stdout=out)
    text = out.getvalue()
    assert "6 renewals on record, 3 churned" in text
    assert "Competitor exposure flagged 2 of 3 churned accounts at T-90" in text


def test_it_says_when_there_is_nothing_to_learn_from(db):
    assert backtest.reading(backtest.backtest(90)) == [
        "No renewal outcomes on record yet: import them with manage.py import_outcomes."
    ]


def test_it_shows_the_backtest_page_to_leadership(org, history):
    response = login(org.vp).get("/summary/backtest/?horizon=30")
    assert response.status_code == 200
    body = response.content.decode()
    assert "T-30" in body and "<svg" in body and "Competitor exposure" in body


@pytest.fixture
def one_lucky_flag(org):
    """Twelve renewals, two churned; a competitor evaluation before T-90 at one churned
    account only: competitor exposure flags exactly one renewal, rightly (precision 100%,
    lift 6×) — one lucky hit, not evidence."""
    accounts = [AccountFactory(name=f"L{i}", owner=org.csm_a) for i in range(12)]
    for i, account in enumerate(accounts):
        RenewalOutcome.objects.create(
            account=account, renewal_date=RENEWAL, outcome="churned" if i < 2 else "renewed"
        )
    CompetitorEvent.objects.create(
        account=accounts[0],
        competitor="Rival",
        activity="evaluation",
        occurred_at=AS_OF - dt.timedelta(days=10),
    )
    return accounts


def test_it_praises_no_signal_that_flagged_too_few_renewals(one_lucky_flag):
    results = backtest.backtest(90)
    assert (result(results, CODE).flagged, result(results, CODE).true_positives) == (1, 1)
    sentences = backtest.reading(results)
    assert not any("precision 100%" in s or "Competitor exposure flagged 1" in s for s in sentences)
    assert any("Competitor exposure" in s and "too few" in s for s in sentences), sentences
