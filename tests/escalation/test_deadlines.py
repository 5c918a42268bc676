"""Response deadlines in business days, reminders, automatic moves up — on a clock the
test controls; and the sweeper that opens what a lost event left unopened."""

from __future__ import annotations

import datetime as dt

from csrisk import clock
from csrisk.models import Notification
from ctas.models import Cta
from escalation import services
from escalation.models import Escalation, EscalationLevel
from tests.escalation.conftest import NOW, open_cta


def test_business_days_skip_the_weekend():
    friday = dt.datetime(2026, 11, 6, 15, 0, tzinfo=dt.UTC)
    assert clock.add_business_days(friday, 1) == dt.datetime(2026, 11, 9, 15, 0, tzinfo=dt.UTC)
    saturday = dt.datetime(2026, 11, 7, 10, 0, tzinfo=dt.UTC)
    assert clock.add_business_days(saturday, 1) == dt.datetime(2026, 11, 10, 10, 0, tzinfo=dt.UTC)
    monday = dt.datetime(2026, 11, 9, 10, 0, tzinfo=dt.UTC)
    assert clock.add_business_days(monday, 0.5) == dt.datetime(2026, 11, 9, 22, 0, tzinfo=dt.UTC)
    assert clock.add_business_days(monday, 5) == dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.UTC)


def test_a_missed_deadline_reminds_the_level_once(org, flagged, django_capture_on_commit_callbacks):
    with clock.frozen(NOW + dt.timedelta(hours=23)):
        assert services.sweep()["reminded"] == 0
    with (
        clock.frozen(NOW + dt.timedelta(days=1, hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.sweep()["reminded"] == 1
        assert services.sweep()["reminded"] == 0
    reminder = Notification.objects.get(user=org.lead_a, kind="escalation_reminder")
    assert "level 1" in reminder.title
    assert flagged.steps.filter(action="reminded").count() == 1


def test_an_acknowledged_escalation_is_not_chased(org, flagged):
    services.escalation_acknowledge(escalation=flagged, by=org.lead_a)
    with clock.frozen(NOW + dt.timedelta(days=10)):
        counts = services.sweep()
    assert counts["reminded"] == counts["auto_escalated"] == 0
    flagged.refresh_from_db()
    assert flagged.level == 1


def test_it_moves_up_automatically_when_configured(
    org, flagged, django_capture_on_commit_callbacks
):
    # level 1: acknowledge within 1 business day, move up 2 business days after that
    with clock.frozen(NOW + dt.timedelta(days=2, hours=23)):
        assert services.sweep()["auto_escalated"] == 0
    with (
        clock.frozen(NOW + dt.timedelta(days=3, hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.sweep()["auto_escalated"] == 1
    flagged.refresh_from_db()
    assert flagged.level == 2
    step = flagged.steps.get(action="auto_escalated")
    assert step.by is None and (step.from_level, step.to_level) == (1, 2)
    assert "did not acknowledge" in step.reason
    assert Notification.objects.filter(user=org.vp, kind="escalated").exists()
    # level 2 is not configured to move up: it is reminded, never escalated to the CEO
    with clock.frozen(NOW + dt.timedelta(days=30)):
        counts = services.sweep()
    flagged.refresh_from_db()
    assert (flagged.level, counts["reminded"], counts["auto_escalated"]) == (2, 1, 0)


def test_without_configuration_it_only_reminds(org, flagged):
    EscalationLevel.objects.filter(level=1).update(escalate_after_business_days=None)
    with clock.frozen(NOW + dt.timedelta(days=20)):
        counts = services.sweep()
    flagged.refresh_from_db()
    assert (flagged.level, counts["reminded"]) == (1, 1)


def test_the_weekend_does_not_count(org, account_a):
    friday = dt.datetime(2026, 11, 6, 16, 0, tzinfo=dt.UTC)
    with clock.frozen(friday):
        from tests.escalation.conftest import flag

        escalation = flag(open_cta(account_a, org.csm_a), org.csm_a)
    assert escalation.deadline_at == dt.datetime(2026, 11, 9, 16, 0, tzinfo=dt.UTC)
    with clock.frozen(dt.datetime(2026, 11, 8, 23, 0, tzinfo=dt.UTC)):  # Sunday night
        assert services.sweep()["reminded"] == 0


def test_the_sweeper_opens_an_escalation_a_lost_event_left_out(org, account_a):
    cta = open_cta(account_a, org.csm_a)
    Cta.objects.filter(pk=cta.pk).update(flagged=True, flag_reason="Bulk flagged", flagged_at=NOW)
    assert services.sweep()["opened"] == 1
    escalation = Escalation.objects.get(cta=cta)
    assert (escalation.level, escalation.reason, escalation.opened_by) == (1, "Bulk flagged", None)
    assert services.sweep()["opened"] == 0


def test_the_sweep_task_runs_the_sweep(org, flagged):
    from escalation.tasks import escalation_sweep_task

    with clock.frozen(NOW + dt.timedelta(days=1, hours=2)):
        assert escalation_sweep_task.delay().get()["reminded"] == 1
