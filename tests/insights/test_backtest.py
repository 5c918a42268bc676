"""The signal backtest on a hand-made history with known answers, and no leakage."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.models import CompetitorEvent, RenewalOutcome
from insights import backtest, metrics
from tests import profile
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
    assert metrics.auc([True, True, False, False], [0.9, 0.4, 0.5, 0.1]) == 0.75
    assert metrics.auc([True, True], [1, 2]) is None
    low, high = metrics.wilson(2, 3)
    assert (round(low, 4), round(high, 4)) == (0.2077, 0.9385)
    assert metrics.wilson(0, 0) is None
    y, s = [True, True, False, False], [0.9, 0.4, 0.5, 0.1]
    ci = metrics.interval(metrics.auc_many(y, s, metrics.resample_weights(4)), 0.75)
    assert 0 <= ci[0] <= 0.75 <= ci[1] <= 1
    # Seeded: the same renewals give the same interval.
    assert ci == metrics.interval(metrics.auc_many(y, s, metrics.resample_weights(4)), 0.75)


def test_it_computes_average_precision_and_brier_by_hand():
    # Ranked 0.9 (churned), 0.5 (kept), 0.4 (churned), 0.1 (kept): precision 1 at recall
    # ½, then 2/3 at recall 1 → AP = ½·1 + ½·⅔ = 5/6.
    assert metrics.average_precision([True, True, False, False], [0.9, 0.4, 0.5, 0.1]) == (
        pytest.approx(5 / 6)
    )
    # Tied values enter together: both at 0.5, one churned → precision ½ at recall 1.
    assert metrics.average_precision([True, False], [0.5, 0.5]) == pytest.approx(0.5)
    assert metrics.average_precision([False, False], [0.2, 0.3]) is None
    # (0.8−1)² + (0.3−0)² + (0.5−1)² over 3 = (0.04 + 0.09 + 0.25) / 3
    assert metrics.brier([True, False, True], [0.8, 0.3, 0.5]) == pytest.approx(0.38 / 3)
    assert metrics.weighted_recall([True, True, False], [True, False, True], [300, 100, 50]) == (
        0.75
    )
    assert metrics.weighted_recall([False], [True], [10]) is None


@hypothesis_settings(max_examples=profile.examples(ci=150), deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(min_value=0, max_value=20)), min_size=2, max_size=60
    )
)
def test_it_agrees_with_scikit_learn(pairs):
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y = [a for a, _ in pairs]
    s = [b / 20 for _, b in pairs]  # many ties, as 0–100 scores have
    if len(set(y)) < 2:
        assert metrics.auc(y, s) is None and metrics.average_precision(y, s) is None
        return
    assert metrics.auc(y, s) == pytest.approx(roc_auc_score(y, s))
    assert metrics.average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    assert metrics.brier(y, s) == pytest.approx(brier_score_loss(y, s))


@hypothesis_settings(max_examples=profile.examples(ci=60), deadline=None)
@given(
    st.lists(
        st.tuples(
            st.booleans(),
            st.integers(min_value=0, max_value=10),
            st.booleans(),
            st.integers(min_value=0, max_value=5),
        ),
        min_size=1,
        max_size=40,
    ),
    st.integers(min_value=0, max_value=2**16),
)
def test_it_bootstraps_every_resample_as_the_reference_would(rows, seed):
    # The fast engine weighs each renewal by how often a resample drew it; expanded into
    # the drawn renewals, each resample must give the reference figures exactly.
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] / 10 for r in rows])
    f = np.array([r[2] for r in rows])
    w = np.array([float(r[3]) for r in rows])
    weights = metrics.resample_weights(len(rows), rounds=8, seed=seed)
    fast = {
        "auc": metrics.auc_many(y, s, weights),
        "ap": metrics.average_precision_many(y, s, weights),
        "brier": metrics.brier_many(y, s, weights),
        "arr": metrics.weighted_recall_many(y, f, w, weights),
    }
    for r, counts in enumerate(weights.astype(int)):
        i = np.repeat(np.arange(len(rows)), counts)
        reference = {
            "auc": metrics.auc(y[i], s[i]),
            "ap": metrics.average_precision(y[i], s[i]),
            "brier": metrics.brier(y[i], s[i]),
            "arr": metrics.weighted_recall(y[i], f[i], w[i]),
        }
        for name, value in reference.items():
            if value is None:
                assert np.isnan(fast[name][r]), name
            else:
                assert fast[name][r] == pytest.approx(value), name


def test_it_tables_calibration_by_decile():
    labels = [i % 10 < i // 10 for i in range(100)]  # decile d churns d of its 10
    probs = [i / 100 for i in range(100)]
    table = metrics.calibration(labels, probs)
    assert [b["n"] for b in table] == [10] * 10
    assert [b["observed"] for b in table] == [d / 10 for d in range(10)]
    assert table[3]["predicted"] == pytest.approx(0.345)
    # A score is a ranking: its groups say what was observed, not a predicted probability.
    ties = metrics.calibration([True, False, False, False], [0, 0, 0, 50], probability=False)
    assert [(b["n"], b["churned"], b["predicted"]) for b in ties] == [(3, 1, None), (1, 0, None)]


def test_it_prints_the_contract_json(history):
    out = StringIO()
    call_command("backtest", "--json", "--horizon-days", "90", stdout=out)
    data = json.loads(out.getvalue())
    assert isinstance(data, list) and data
    contract = {"signal", "horizon_days", "auc", "precision", "recall", "lift", "n", "pr_auc"}
    for item in data:
        # The CONTRACT keys, and pr_auc; brier only for probabilities (the risk model's).
        assert set(item) == contract | ({"brier"} if item["signal"] == "risk_model" else set())
        assert item["horizon_days"] == 90 and item["n"] == 6
    # The measures, the composite, then the renewal-risk model, scored point-in-time.
    assert [i["signal"] for i in data][-2:] == ["composite", "risk_model"]
    assert next(i for i in data if i["signal"] == CODE)["auc"] == round(6 / 9, 4)


def test_it_prints_a_table_and_a_plain_reading(history, settings):
    settings.CSRISK_BACKTEST_MIN_FLAGGED = 3
    out = StringIO()
    call_command("backtest", stdout=out)
    text = out.getvalue()
    assert "6 renewals on record, 3 churned" in text
    assert "Competitor exposure flagged 2 of 3 churned accounts at T-90" in text


def test_it_says_when_there_is_nothing_to_learn_from(db):
    assert backtest.reading(backtest.backtest(90)) == [
        "No renewal outcomes on record yet: import them with manage.py import_outcomes."
    ]


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


def test_it_names_a_signal_once_it_flagged_enough(one_lucky_flag, settings):
    settings.CSRISK_BACKTEST_MIN_FLAGGED = 1
    sentences = backtest.reading(backtest.backtest(90))
    assert any(s.startswith("Competitor exposure flagged 1 of 2") for s in sentences)


def test_it_weights_recall_by_the_arr_at_stake(history):
    # Churned: 1 (arr_before 100k, flagged), 2 (no arr_before: the account's 50k, flagged),
    # 4 (arr_before 30k, its evaluation came after T-90: not flagged) → 150 / 180.
    RenewalOutcome.objects.filter(account=history[0]).update(arr_before=100_000)
    RenewalOutcome.objects.filter(account=history[3]).update(arr_before=30_000)
    r = result(backtest.backtest(90), CODE)
    assert r.arr_recall == pytest.approx(150 / 180)


def test_it_measures_lead_time_across_horizons(history):
    # Accounts 1 and 2 were flagged from T-90 on (read Monday 1 December: 90 days before
    # 1 March); account 4 only at T-30 (read Monday 26 January: 34 days before).
    results = backtest.backtest_all((30, 60, 90))
    r = result(results[90], CODE)
    assert (r.lead_n, r.lead_days) == (3, 90)
    assert result(results[30], CODE).lead_days == 90


def test_it_scores_a_probability_per_renewal(history, settings):
    settings.CSRISK_BACKTEST_PROBABILITY_FLAG = 0.5
    rows = backtest.history(90)
    churned = {a.pk for a in history[:2]} | {history[3].pk}
    guess = {a.pk: (0.9 if a.pk in churned else 0.1) for a in history}
    guess[history[5].pk] = None  # a renewal the model could not score is left out

    def model(rows: list[backtest.Row]) -> list[float | None]:
        return [guess[r.account_id] for r in rows]

    results = backtest.backtest(90, rows=rows, sources={"risk_model": ("Model", model)})
    r = result(results, "risk_model")
    assert (r.kind, r.n, r.positives, r.flagged, r.true_positives) == ("probability", 5, 3, 3, 3)
    assert r.auc == 1.0 and r.pr_auc == 1.0
    assert r.brier == pytest.approx(0.01)
    assert r.calibration[-1]["predicted"] == pytest.approx(0.9)
    assert r.as_contract()["brier"] == 0.01
    assert "brier" not in result(results, CODE).as_contract()
