"""The weekly executive summary e-mail to leadership."""

from __future__ import annotations

from django.core import mail

from csrisk import clock
from csrisk.models import Notification
from insights.tasks import weekly_summary_task
from tests.insights.helpers import NOW, book


def test_it_mails_the_summary_to_the_vp_and_ceo_once_a_week(
    org, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_BASE_URL = "https://csrisk.example"
    book(org)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=True):
        assert weekly_summary_task.delay().get() == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["ceo@example.com", "vp@example.com"]
    message = mail.outbox[0]
    assert "150,000 ARR at risk" in message.subject
    assert "red 100,000, yellow 50,000" in message.body
    assert "-30,000 vs 30 days ago, +70,000 vs 90 days ago" in message.body
    assert "https://csrisk.example/summary/" in message.body
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=True):
        assert weekly_summary_task.delay().get() == 0  # same week: nobody is told twice
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(kind="executive_summary").count() == 2


def test_it_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["executive-summary-weekly"]
    assert entry["task"] == "insights.tasks.weekly_summary_task"


def test_it_mails_expected_loss_and_names_the_prior(org, django_capture_on_commit_callbacks):
    from insights.models import RiskModelKind
    from insights.predictions import PRIOR_NOTE
    from tests.insights.risk_factories import RiskModelFactory, RiskPredictionFactory

    b = book(org)
    RiskModelFactory(kind=RiskModelKind.PRIOR)
    RiskPredictionFactory(account=b["alpha"], probability=0.3)
    with clock.frozen(NOW), django_capture_on_commit_callbacks(execute=True):
        assert weekly_summary_task.delay().get() == 2
    body = mail.outbox[0].body
    assert f"Expected ARR loss at renewal: 30,000 (1 of 3 accounts scored; {PRIOR_NOTE})." in body
