"""The weekly training task: thin, idempotent, on beat's schedule."""

from __future__ import annotations

from django.conf import settings

from insights.models import RiskModel, RiskPrediction
from insights.tasks import train_risk_task


def test_it_trains_and_scores_and_is_safe_to_run_twice(org, account_a):
    first = train_risk_task.delay().get()
    second = train_risk_task.delay().get()
    assert first.startswith("prior-") and second == first  # nothing new: same model
    assert RiskModel.objects.get(active=True).version == first
    # No renewals on record: the prior with the default base rate scores the account, once.
    assert RiskPrediction.objects.filter(account=account_a, latest=True).count() == 1
    assert RiskPrediction.objects.filter(account=account_a).count() == 1


def test_beat_runs_it_weekly():
    entries = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("train_risk_task")
    ]
    assert len(entries) == 1
    assert entries[0]["task"] == "insights.tasks.train_risk_task"
    assert entries[0]["schedule"].day_of_week == {0}
