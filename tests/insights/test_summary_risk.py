"""Renewal risk in dollars on the executive summary: expected ARR loss by quarter, segment
and team; green accounts in the top decile of risk as blind spots; actions ranked by
expected loss; and the prior said out loud."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import CompetitorEvent, PeopleChange
from csrisk import clock
from insights.models import RiskModelKind
from insights.predictions import PRIOR_NOTE
from insights.summary import closeness, executive_summary, prioritised_actions
from tests.conftest import login
from tests.factories import AccountFactory
from tests.insights.helpers import NOW, book, card, days_ago
from tests.insights.risk_factories import RiskModelFactory, RiskPredictionFactory

K = Decimal("1000")


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def by_key(buckets):
    return {b.key: b for b in buckets}


def scored_book(org, kind: str = RiskModelKind.LEARNED) -> dict:
    """The summary's book with predictions: alpha 30% (30k), beta 10% (5k), gamma 50% (15k);
    the churned account's 90% (899.1k) is not live."""
    b = book(org)
    RiskModelFactory(kind=kind)
    for name, p in (("alpha", 0.3), ("beta", 0.1), ("gamma", 0.5), ("gone", 0.9)):
        RiskPredictionFactory(account=b[name], probability=p)
    return b


def test_it_sums_expected_loss_by_segment_team_and_quarter(org):
    scored_book(org)
    s = executive_summary(NOW)
    assert s.total.expected_loss == 50 * K
    segment = by_key(s.by_segment)
    assert [segment[k].expected_loss for k in ("enterprise", "mid_market", "smb")] == [
        30 * K,
        5 * K,
        15 * K,
    ]
    team = by_key(s.by_team)
    assert (team["CS A"].expected_loss, team["CS B"].expected_loss) == (45 * K, 5 * K)
    quarter = by_key(s.by_quarter)
    assert quarter["2026-Q3"].expected_loss == 30 * K
    assert quarter["No renewal date"].expected_loss == 15 * K
    assert all(b.expected_loss is None for b in s.by_area)  # no model of areas
    assert (s.risk.n_scored, s.risk.n_live, s.risk.prior) == (3, 3, False)


def test_it_leaves_expected_loss_blank_before_any_prediction(org):
    book(org)
    s = executive_summary(NOW)
    assert s.total.expected_loss == 0 and s.risk.n_scored == 0
    assert all(b.expected_loss is None for b in s.by_segment)


def test_it_reads_only_the_latest_prediction(org):
    b = scored_book(org)
    RiskPredictionFactory(account=b["alpha"], probability=0.9, latest=False)  # history
    assert executive_summary(NOW).total.expected_loss == 50 * K


def test_it_finds_green_accounts_in_the_top_decile_of_risk(org):
    b = scored_book(org)
    spots = [s for s in executive_summary(NOW).blind_spots if s.signal == "risk"]
    # gamma: green, and of three scored accounts the one most likely to churn.
    assert [s.account for s in spots] == ["Gamma"]
    assert spots[0].sentence == (
        "Green scorecard, but risk 50% — top 10% of the book: "
        "non-critical tickets up 40%; weekly active users down"
    )
    assert (spots[0].expected_loss, spots[0].prior) == (15 * K, False)
    assert spots[0].on == dt.date(2026, 6, 14)
    # A red account at the top is no blind spot: its scorecard already says so.
    RiskPredictionFactory._meta.model.objects.filter(account=b["gamma"]).update(probability=0.01)
    assert [s for s in executive_summary(NOW).blind_spots if s.signal == "risk"] == []


def test_it_keeps_the_signal_blind_spots_and_adds_their_risk(org):
    b = scored_book(org)
    CompetitorEvent.objects.create(
        account=b["gamma"], competitor="Rival", activity="mention", occurred_at=days_ago(3)
    )
    spots = executive_summary(NOW).blind_spots
    assert {(s.account, s.signal) for s in spots} == {("Gamma", "competitor"), ("Gamma", "risk")}
    assert all(s.probability == 0.5 for s in spots)


def test_it_ranks_the_top_decile_on_a_larger_book(org):
    book_ = [AccountFactory(owner=org.csm_a, arr=Decimal("10000")) for _ in range(20)]
    RiskModelFactory()
    for i, account in enumerate(book_):
        card(account, "green")
        RiskPredictionFactory(account=account, probability=(i + 1) / 100)
    spots = [s for s in executive_summary(NOW).blind_spots if s.signal == "risk"]
    assert sorted(s.probability for s in spots) == [0.19, 0.20]  # 2 of 20


def test_it_says_when_the_figures_come_from_the_prior(org):
    scored_book(org, kind=RiskModelKind.PRIOR)
    s = executive_summary(NOW)
    assert s.risk.prior
    gamma = next(b for b in s.blind_spots if b.signal == "risk")
    assert gamma.prior and gamma.sentence.endswith(f"({PRIOR_NOTE})")
    body = login(org.vp).get("/summary/").content.decode()
    assert body.count(PRIOR_NOTE) >= 3  # the KPI, the breakdowns, the blind spots
    assert ">prior<" in body


def test_it_names_the_learned_model_otherwise(org):
    scored_book(org)
    body = login(org.vp).get("/summary/").content.decode()
    assert PRIOR_NOTE not in body
    assert "learned from 120 renewals (25 churned)" in body
    assert "50,000" in body and "Exp. loss" in body


def test_it_ranks_actions_by_expected_loss(org):
    b = book(org)
    RiskModelFactory()
    RiskPredictionFactory(account=b["alpha"], probability=0.05)  # 100k ARR, 5k at stake
    RiskPredictionFactory(account=b["beta"], probability=0.6)  # 50k ARR, 30k at stake
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    PeopleChange.objects.create(
        account=b["beta"], change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(30)
    )
    actions = prioritised_actions(NOW)
    # By ARR alpha led (100k × 0.9 × 0.78 against 50k × 1.0 × 0.35); by expected loss beta.
    assert [(a.account, a.signal) for a in actions] == [
        ("Beta", "edm_left"),
        ("Alpha", "competitor"),
    ]
    beta_days = (dt.date(2026, 12, 1) - NOW.date()).days
    assert actions[0].priority == pytest.approx(30_000 * 1.0 * closeness(beta_days))
    assert (actions[0].expected_loss, actions[0].probability) == (30 * K, 0.6)
    assert actions[1].expected_loss == 5 * K
    body = login(org.vp).get("/summary/").content.decode()
    assert "30,000" in body and "60%" in body
    csv = login(org.vp).get("/summary/export.csv?table=actions").content.decode().splitlines()
    assert csv[0].endswith(",churn_probability,expected_loss,risk_source")
    assert csv[1].startswith("1,Beta,") and csv[1].endswith(",0.6000,30000.00,learned")


def test_it_counts_an_unscored_account_at_the_books_median_risk(org):
    b = book(org)
    RiskModelFactory()
    RiskPredictionFactory(account=b["alpha"], probability=0.1)
    RiskPredictionFactory(account=b["gamma"], probability=0.3)
    PeopleChange.objects.create(
        account=b["beta"], change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(30)
    )
    (action,) = prioritised_actions(NOW)
    beta_days = (dt.date(2026, 12, 1) - NOW.date()).days
    assert action.priority == pytest.approx(50_000 * 0.2 * closeness(beta_days))
    assert action.expected_loss is None  # shown as "not scored", not as a made-up figure


def test_it_renders_with_predictions_in_a_constant_number_of_queries(
    org, django_assert_max_num_queries
):
    scored_book(org)
    client = login(org.vp)
    client.get("/summary/")
    with django_assert_max_num_queries(23) as small:
        client.get("/summary/")
    for _ in range(20):
        account = AccountFactory(owner=org.csm_b)
        card(account, "green")
        RiskPredictionFactory(account=account, probability=0.7)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/summary/").status_code == 200


def test_it_words_a_risk_blind_spot_from_the_scorings_reason_texts(org):
    b = scored_book(org)
    RiskPredictionFactory._meta.model.objects.filter(account=b["gamma"]).update(
        reasons=[
            {
                "feature": "support.noncritical_velocity",
                "label": "Ticket velocity",
                "points": 12.0,
                "text": "Non-critical tickets up 40%: +12 points",
            },
            {"feature": "log_arr", "label": "ARR", "points": 3.0, "text": "ARR 30,000: +3 points"},
        ]
    )
    (spot,) = [s for s in executive_summary(NOW).blind_spots if s.signal == "risk"]
    assert spot.sentence.endswith(
        "top 10% of the book: Non-critical tickets up 40%: +12 points; ARR 30,000: +3 points"
    )
