"""The backtest page, its run and its API: results at once from the last run, progress
while one runs, never a page that computes."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import CompetitorEvent, RenewalOutcome
from csrisk import clock
from insights import backtest_runs
from insights.models import BacktestRun, BacktestStatus
from tests.conftest import api, login
from tests.factories import AccountFactory

RENEWAL = dt.date(2026, 3, 2)


@pytest.fixture
def outcomes(org):
    accounts = []
    for i, outcome in enumerate(["churned", "renewed", "renewed"]):
        account = AccountFactory(name=f"P{i}", owner=org.csm_a)
        RenewalOutcome.objects.create(account=account, renewal_date=RENEWAL, outcome=outcome)
        accounts.append(account)
    CompetitorEvent.objects.create(
        account=accounts[0],
        competitor="Rival",
        activity="evaluation",
        occurred_at=dt.datetime(2025, 11, 20, tzinfo=dt.UTC),
    )
    return accounts


@pytest.fixture
def inline(settings):
    """Runs go straight to the in-process task (no thread) when their callbacks run."""
    settings.CSRISK_BACKTEST_THREAD = False


def finished_run(user, django_capture_on_commit_callbacks) -> BacktestRun:
    with django_capture_on_commit_callbacks(execute=True):
        run = backtest_runs.backtest_run_request(by=user)
    run.refresh_from_db()
    return run


def test_it_answers_the_first_visit_at_once_with_progress(
    org, outcomes, django_assert_max_num_queries
):
    # Reading every renewal at every horizon runs hundreds of queries and takes 20–40 s on
    # the demo book; the first visit must only queue that work and show its progress.
    client = login(org.vp)
    with django_assert_max_num_queries(20):
        response = client.get("/summary/backtest/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "<progress" in body and "A run is queued" in body
    run = BacktestRun.objects.get()
    assert (run.status, run.requested_by) == (BacktestStatus.QUEUED, org.vp)


def test_it_shows_the_latest_results_with_their_date(
    org, outcomes, inline, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    run = finished_run(org.vp, django_capture_on_commit_callbacks)
    assert (run.status, run.progress, run.as_of) == ("done", 100, clock.today())
    assert set(run.results) == {"30", "60", "90", "180"}
    client = login(org.ceo)
    with django_assert_max_num_queries(20):
        response = client.get("/summary/backtest/?horizon=30")
    body = response.content.decode()
    assert response.status_code == 200
    assert f"as of {clock.today():%Y-%m-%d}" in body and "<progress" not in body
    assert "T-30" in body and "<svg" in body and "Competitor exposure" in body
    assert "Calibration at T-30" in body and "Run again" in body
    assert BacktestRun.objects.count() == 1  # fresh: nothing queued


def test_it_marks_results_stale_when_outcomes_change(
    org, outcomes, inline, django_capture_on_commit_callbacks
):
    finished_run(org.vp, django_capture_on_commit_callbacks)
    RenewalOutcome.objects.filter(account=outcomes[1]).update(outcome="churned")
    body = login(org.vp).get("/summary/backtest/").content.decode()
    assert "out of date" in body and "<progress" in body and "Competitor exposure" in body
    assert BacktestRun.objects.filter(status=BacktestStatus.QUEUED).count() == 1


def test_it_serves_the_fragment_to_htmx(org, outcomes):
    response = login(org.vp).get(
        "/summary/backtest/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="backtest-body"
    )
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="backtest-body"')
    assert 'hx-trigger="every 1s"' in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_it_runs_again_on_request_and_records_who(
    org, outcomes, inline, django_capture_on_commit_callbacks
):
    first = finished_run(org.vp, django_capture_on_commit_callbacks)
    client = login(org.ceo)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/summary/backtest/run/", {"horizon": "60"})
    assert response.status_code == 302 and response["Location"].endswith("?horizon=60")
    latest = BacktestRun.objects.exclude(pk=first.pk).get()
    assert (latest.status, latest.requested_by) == (BacktestStatus.DONE, org.ceo)


def test_it_joins_the_run_under_way(org, outcomes):
    first = backtest_runs.backtest_run_request(by=org.vp)
    response = login(org.ceo).post(
        "/summary/backtest/run/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="backtest-body"
    )
    assert response.status_code == 200 and "<progress" in response.content.decode()
    assert list(BacktestRun.objects.values_list("pk", flat=True)) == [first.pk]


def test_it_keeps_the_page_and_the_run_for_leadership(org, outcomes):
    assert login(org.csm_a).get("/summary/backtest/").status_code == 403
    assert login(org.lead_a).post("/summary/backtest/run/").status_code == 403
    assert login(org.vp).get("/summary/backtest/run/").status_code == 405
    anonymous = login(org.vp)
    anonymous.logout()
    assert anonymous.get("/summary/backtest/")["Location"].startswith("/login/")
    assert not BacktestRun.objects.exists()


def test_it_runs_a_run_once(org, outcomes, inline):
    run = backtest_runs.backtest_run_request(by=org.vp)
    assert backtest_runs.backtest_run_execute(run_id=run.pk).status == BacktestStatus.DONE
    finished = BacktestRun.objects.get().finished_at
    # A re-delivered message finds it done and leaves it alone.
    assert backtest_runs.backtest_run_execute(run_id=run.pk).finished_at == finished
    assert BacktestRun.objects.get().attempts == 1


def test_it_records_a_failed_run_and_waits_for_run_again(org, outcomes, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the measures blew up")

    monkeypatch.setattr("insights.backtest.backtest_all", broken)
    run = backtest_runs.backtest_run_request(by=org.vp)
    failed = backtest_runs.backtest_run_execute(run_id=run.pk)
    assert failed.status == BacktestStatus.FAILED and "blew up" in failed.error
    body = login(org.vp).get("/summary/backtest/").content.decode()
    assert "the measures blew up" in body and "Run again" in body and "<progress" not in body
    assert BacktestRun.objects.count() == 1  # no new run on every visit after a failure


def test_it_sweeps_lost_and_stuck_runs(org, outcomes, inline, django_capture_on_commit_callbacks):
    run = backtest_runs.backtest_run_request(by=org.vp)
    BacktestRun.objects.filter(pk=run.pk).update(
        queued_at=clock.now() - backtest_runs.RESEND_AFTER - dt.timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert backtest_runs.backtest_runs_sweep() == (1, 0)
    assert BacktestRun.objects.get().status == BacktestStatus.DONE
    stuck = BacktestRun.objects.create(
        status=BacktestStatus.RUNNING,
        as_of=clock.today(),
        requested_at=clock.now(),
        queued_at=clock.now(),
        started_at=clock.now() - backtest_runs.STUCK_AFTER - dt.timedelta(minutes=1),
        attempts=backtest_runs.MAX_ATTEMPTS,
    )
    assert backtest_runs.backtest_runs_sweep() == (0, 1)
    stuck.refresh_from_db()
    assert stuck.status == BacktestStatus.FAILED and "lost 3 times" in stuck.error
    never = backtest_runs.backtest_run_request(by=None)
    BacktestRun.objects.filter(pk=never.pk).update(
        requested_at=clock.now() - backtest_runs.GIVE_UP_AFTER - dt.timedelta(minutes=1)
    )
    assert backtest_runs.backtest_runs_sweep() == (0, 1)
    assert "never started" in BacktestRun.objects.get(pk=never.pk).error


# --- API ------------------------------------------------------------------------------------


def test_it_answers_202_with_progress_before_any_result(org, outcomes):
    response = api(org.vp).get("/api/v1/backtest/?horizon_days=90")
    assert response.status_code == 202
    data = response.json()
    assert (data["status"], data["progress"], data["results"], data["as_of"]) == (
        "queued",
        0,
        [],
        None,
    )


def test_it_gives_the_latest_results_over_the_api(
    org, outcomes, inline, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    finished_run(org.vp, django_capture_on_commit_callbacks)
    client = api(org.executive)
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/backtest/?horizon_days=60")
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["as_of"], data["stale"]) == ("done", f"{clock.today()}", False)
    composite = next(r for r in data["results"] if r["signal"] == "composite")
    assert composite["horizon_days"] == 60 and composite["n"] == 3
    assert {"auc", "pr_auc", "precision", "recall", "lift", "calibration", "lead_days"} <= set(
        composite
    )


@pytest.mark.parametrize("horizon", ["45", "abc", "-90", "9" * 30])
def test_it_refuses_an_unknown_horizon(org, horizon):
    response = api(org.vp).get(f"/api/v1/backtest/?horizon_days={horizon}")
    assert response.status_code == 400 and "horizon_days" in response.json()


def test_it_keeps_the_api_for_leadership(org):
    assert api().get("/api/v1/backtest/").status_code == 401
    assert api(org.csm_a).get("/api/v1/backtest/").status_code == 403
    assert api(org.integration, token=True).get("/api/v1/backtest/").status_code == 403
    assert api(org.vp).post("/api/v1/backtest/").status_code == 405
