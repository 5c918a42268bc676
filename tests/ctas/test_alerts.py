"""Alert on change: turning red and leaving red, and overdue CTAs, each told once."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Ticket
from csrisk import clock
from csrisk.models import Notification
from ctas import services
from scorecards import services as scorecards
from tests.factories import ContactFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def test_turning_red_and_leaving_red_tell_the_owner_and_the_lead(
    org, account_a, django_capture_on_commit_callbacks
):
    ContactFactory(account=account_a, roles=["edm"])
    scorecards.recompute([account_a.pk])
    tickets = [
        Ticket.objects.create(account=account_a, opened_at=NOW - dt.timedelta(days=3 + i))
        for i in range(30)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        scorecards.recompute([account_a.pk])
        scorecards.recompute([account_a.pk])  # no change: no second alert
    red = Notification.objects.filter(kind="scorecard_red")
    assert sorted(red.values_list("user__username", flat=True)) == ["csm_a", "lead_a"]
    assert red.first().body.startswith("Support is red: 30 non-critical tickets")
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).delete()
    with (
        django_capture_on_commit_callbacks(execute=True),
        clock.frozen(NOW + dt.timedelta(minutes=5)),
    ):
        scorecards.recompute([account_a.pk])
    assert Notification.objects.filter(kind="scorecard_recovered").count() == 2


def test_an_overdue_cta_is_told_once_to_owner_and_lead(org, account_a):
    with clock.frozen(NOW - dt.timedelta(days=7)):  # due dates are never set in the past
        cta = services.cta_create(
            account=account_a,
            by=org.csm_a,
            reason="x",
            area="habits",
            due_date=dt.date(2026, 11, 1),
        )
    assert services.alert_overdue() == 2
    assert services.alert_overdue() == 0
    services.cta_snooze(cta=cta, by=org.csm_a, until=dt.date(2026, 11, 10))
    Notification.objects.all().delete()
    assert services.alert_overdue() == 0  # snoozed CTAs are not nagged
