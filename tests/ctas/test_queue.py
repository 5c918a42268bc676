"""RACI: a flagged CTA in an area goes to the team that owns it — told once, and listed
on their queue page with the cockpit's in-place actions."""

from __future__ import annotations

import datetime as dt

import pytest

from csrisk import clock
from csrisk.models import Notification
from ctas import services
from tests.conftest import login

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def support_cta(account, by, reason="Ticket storm"):
    return services.cta_create(account=account, by=by, reason=reason, area="support")


def test_the_support_team_is_told_once_of_a_flagged_support_cta(
    org, account_a, django_capture_on_commit_callbacks
):
    cta = support_cta(account_a, org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=cta, by=org.csm_a, reason="Backlog keeps growing")
    told = Notification.objects.filter(user=org.support)
    assert told.count() == 1
    assert account_a.name in told.get().title


def test_support_sees_the_flagged_support_ctas_on_its_queue(org, account_a):
    cta = support_cta(account_a, org.csm_a, reason="Ticket storm")
    services.cta_flag(cta=cta, by=org.csm_a, reason="Backlog keeps growing")
    response = login(org.support).get("/cockpit/queue/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Support queue" in html and "Ticket storm" in html
