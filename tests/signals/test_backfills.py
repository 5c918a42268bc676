"""Backfills are not news: history imported by REST, webhook, CSV or command updates facts,
colours and history without alerting; rule CTAs open only for what is still true now."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from csrisk import clock
from csrisk.models import Notification
from ctas.models import Cta
from scorecards import services as scorecards
from scorecards.models import ColorChange, Scorecard
from tests.factories import ContactFactory
from tests.signals.helpers import ticket

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
URL = "/api/v1/signals/"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def old_tickets(n: int = 30) -> list[dict]:
    """Non-critical tickets of the last weeks: enough to turn support (and overall) red."""
    return [
        {**ticket(f"T-{i}"), "occurred_at": (NOW - dt.timedelta(days=3 + i)).isoformat()}
        for i in range(n)
    ]


def old_competitor(days_ago: int = 300) -> dict:
    """A competitor evaluation that ended long ago: true then, not now."""
    return {
        "source": "crm",
        "external_id": "C-1",
        "kind": "competitor",
        "account": {"external_id": "A-1"},
        "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
        "attributes": {"competitor": "Rival", "activity": "evaluation"},
    }


@pytest.fixture
def green_account(account_a, django_capture_on_commit_callbacks):
    ContactFactory(account=account_a, roles=["edm"])
    with django_capture_on_commit_callbacks(execute=True):
        scorecards.recompute([account_a.pk])
    assert Scorecard.objects.get(account=account_a).color != "red"
    return account_a


def post(client, payload, url: str = URL):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def test_it_backfills_over_rest_without_telling_anyone(client, green_account):
    response = post(client, [*old_tickets(), old_competitor()], url=f"{URL}?backfill=true")
    assert response.status_code == 202, response.content
    # Nobody is told of news that is history…
    told = sorted(Notification.objects.values_list("kind", "title"))
    assert not [t for t in told if t[0] == "scorecard_red"], told
    # …a competitor evaluation of 300 days ago is no reason to open a CTA today…
    assert not Cta.objects.filter(reason__startswith="Evaluating a competitor").exists()
    # …but the facts and the colours moved, and the history says where that came from.
    assert Scorecard.objects.get(account=green_account).color == "red"
    overall = ColorChange.objects.get(account=green_account, area="overall", to_color="red")
    assert overall.cause == "backfill"
