"""The renewal-risk panel on the account page, and scoring after a recompute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from accounts.choices import LifecycleStage
from accounts.models import CompetitorEvent
from csrisk import clock
from insights.models import RiskPrediction
from insights.risk import services
from insights.risk.services import risk_score
from scorecards.services import recompute
from tests.conftest import login
from tests.factories import AccountFactory


def evaluated(account, days_ago: int = 3) -> None:
    CompetitorEvent.objects.create(
        account=account,
        competitor="Rival",
        activity="evaluation",
        occurred_at=clock.now() - dt.timedelta(days=days_ago),
    )


def test_it_shows_probability_band_reasons_trend_and_the_prior_notice(org, account_a):
    risk_score([account_a.pk])
    evaluated(account_a)
    risk_score([account_a.pk])
    html = login(org.csm_a).get(f"/accounts/{account_a.pk}/").content.decode()
    latest = RiskPrediction.objects.get(account=account_a, latest=True)
    assert 'id="risk-panel"' in html
    assert f"{round(latest.probability * 100)}%</strong> chance the next renewal churns" in html
    assert f"{latest.get_band_display()} risk" in html  # a word, not only a colour
    assert "Evaluation of Rival" in html and "points" in html
    assert "Not trained on this book&#x27;s renewals yet" in html
    assert "expert weights, not learned." in html
    assert "worse" in html  # the evaluation raised it since the first prediction


def test_it_keeps_history_with_one_latest_prediction(org, account_a):
    risk_score([account_a.pk])
    report = risk_score([account_a.pk])  # nothing changed: nothing is written
    assert (report.accounts, report.new, report.refreshed) == (1, 0, 0)
    assert RiskPrediction.objects.filter(account=account_a).count() == 1
    evaluated(account_a)
    risk_score([account_a.pk])
    rows = list(RiskPrediction.objects.filter(account=account_a).order_by("computed_at", "pk"))
    assert [r.latest for r in rows] == [False, True]
    assert rows[1].probability > rows[0].probability


def test_it_says_so_for_a_churned_account_and_before_any_prediction(org, account_a, account_b):
    account_b.lifecycle_stage = LifecycleStage.CHURNED
    account_b.save()
    client = login(org.vp)
    assert "No prediction yet" in client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert "Churned: no renewal ahead" in client.get(f"/accounts/{account_b.pk}/").content.decode()


def test_a_recompute_scores_from_the_rows_it_just_computed(
    org, account_a, monkeypatch, django_capture_on_commit_callbacks
):
    evaluated(account_a)

    def no_second_run(*args, **kwargs):
        raise AssertionError("the scoring ran the measures again")

    monkeypatch.setattr(services, "run_measures", no_second_run)
    with django_capture_on_commit_callbacks(execute=True):
        recompute([account_a.pk])
    latest = RiskPrediction.objects.get(account=account_a, latest=True)
    assert latest.reasons[0]["text"].startswith("Evaluation of Rival")


@pytest.mark.parametrize("path", ["/accounts/{pk}/"])
def test_anonymous_people_go_to_the_login_page(client, account_a, path):
    response = client.get(path.format(pk=account_a.pk))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path of new predictions is PostgreSQL's"
)
def test_it_copies_many_new_predictions_as_they_would_be_inserted(org, monkeypatch):
    accounts = [AccountFactory(owner=org.csm_a, name=f"C{i}") for i in range(3)]
    for account in accounts:
        evaluated(account)  # sentences with digits, parentheses and a semicolon
    CompetitorEvent.objects.create(  # text COPY must escape: a backslash, a tab, non-ASCII
        account=accounts[0],
        competitor="Rïval \\ Co\tLtd",
        activity="evaluation",
        occurred_at=clock.now() - dt.timedelta(days=1),
    )
    monkeypatch.setattr(services, "BIG", 1)  # every batch takes the COPY path
    risk_score([a.pk for a in accounts])
    copied = {p.account_id: p for p in RiskPrediction.objects.filter(latest=True)}
    monkeypatch.setattr(services, "BIG", 10_000)
    RiskPrediction.objects.all().delete()
    risk_score([a.pk for a in accounts])
    inserted = {p.account_id: p for p in RiskPrediction.objects.filter(latest=True)}
    fields = ["probability", "expected_loss", "band", "horizon_days", "renewal_date", "reasons"]
    for a in accounts:
        assert [getattr(copied[a.pk], f) for f in fields] == [
            getattr(inserted[a.pk], f) for f in fields
        ]
    assert "Rïval \\ Co\tLtd" in copied[accounts[0].pk].reasons[0]["text"]


def test_scoring_a_chunk_reads_the_latest_predictions_of_its_accounts_only(org, monkeypatch):
    """A chunk of a full recompute (past ``BIG`` accounts) reads its own accounts' latest
    predictions, not the book's (each of 18 chunks read all 86,000 once)."""
    from django.test.utils import CaptureQueriesContext

    accounts = [AccountFactory(owner=org.csm_a, name=f"C{i}") for i in range(3)]
    for account in accounts:
        evaluated(account)
    risk_score([a.pk for a in accounts])
    monkeypatch.setattr(services, "BIG", 1)  # as a chunk of thousands would be
    seen: list = []
    real = services._latest

    def latest(wanted):
        found = real(wanted)
        seen.append(set(found))
        return found

    monkeypatch.setattr(services, "_latest", latest)
    with CaptureQueriesContext(connection) as ctx:
        risk_score([a.pk for a in accounts[:2]])
    assert seen == [{a.pk for a in accounts[:2]}]
    reads = [q["sql"] for q in ctx.captured_queries if "insights_riskprediction" in q["sql"]]
    assert reads and ("json_each" in reads[0] or "unnest" in reads[0])


def test_a_reason_of_one_point_says_point():
    assert services.points_text(1.2) == "+1 point"
    assert services.points_text(12.4) == "+12 points"
    assert services.points_text(1.6) == "+2 points"


def test_a_reworded_reason_is_refreshed_in_place_by_its_digest(org, account_a):
    """Same prediction, other words (a stored reason reads differently now): the latest
    row's reasons and digest are rewritten in place, no new row; then nothing again."""
    evaluated(account_a)
    risk_score([account_a.pk])
    latest = RiskPrediction.objects.get(account=account_a, latest=True)
    assert latest.reasons_digest == services.reasons_digest(r["text"] for r in latest.reasons)
    RiskPrediction.objects.filter(pk=latest.pk).update(
        reasons=[{**latest.reasons[0], "text": "old wording"}], reasons_digest="stale"
    )
    report = risk_score([account_a.pk])
    assert (report.new, report.refreshed) == (0, 1)
    fresh = RiskPrediction.objects.get(account=account_a, latest=True)
    assert fresh.pk == latest.pk and fresh.reasons == latest.reasons
    assert fresh.reasons_digest == latest.reasons_digest
    assert risk_score([account_a.pk]).refreshed == 0


def test_the_migration_fills_the_digest_of_the_latest_predictions(org, account_a):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("insights.migrations.0004_riskprediction_reasons_digest")
    evaluated(account_a)
    risk_score([account_a.pk])
    latest = RiskPrediction.objects.get(account=account_a, latest=True)
    RiskPrediction.objects.filter(pk=latest.pk).update(reasons_digest="")
    migration.fill(apps, None)
    assert RiskPrediction.objects.get(pk=latest.pk).reasons_digest == latest.reasons_digest
