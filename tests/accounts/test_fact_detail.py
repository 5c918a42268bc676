"""The fact page a scorecard reason links to ("based on ticket #80"), and the links."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import CompetitorEvent, Milestone, PeopleChange, SentimentResponse, Ticket
from csrisk import clock
from scorecards import services as scorecards
from scorecards.models import AreaScore
from tests.conftest import login

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def ticket(account_a) -> Ticket:
    return Ticket.objects.create(
        account=account_a,
        source="zendesk",
        external_id="ZD-4411",
        subject="Export <b>times out</b>",
        priority="urgent",
        status="open",
        tags=["export", "csv"],
        requester_group="Finance",
        opened_at=NOW - dt.timedelta(days=2),
    )


def url(account_id: int, kind: str, fact_id: int) -> str:
    return f"/accounts/{account_id}/facts/{kind}/{fact_id}/"


def test_it_shows_what_a_ticket_says(org, account_a, ticket):
    response = login(org.support).get(url(account_a.pk, "ticket", ticket.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Ticket #", "ZD-4411", "Urgent", "Open", "export, csv", "Finance", account_a.name):
        assert text in html, text
    assert "Export &lt;b&gt;times out&lt;/b&gt;" in html  # customer text is escaped
    assert f'href="/accounts/{account_a.pk}/#scorecard-panel"' in html


@pytest.mark.parametrize(
    ("kind", "make", "shown"),
    [
        ("sentiment", lambda a: SentimentResponse.objects.create(
            account=a, responded_at=NOW, nps=3, comment="Too slow"), "Too slow"),
        ("people_change", lambda a: PeopleChange.objects.create(
            account=a, change="left", occurred_at=NOW, old_title="CFO"), "CFO"),
        ("competitor_event", lambda a: CompetitorEvent.objects.create(
            account=a, competitor="Rival", activity="evaluation", occurred_at=NOW), "Rival"),
        ("milestone", lambda a: Milestone.objects.create(
            account=a, name="SSO live", due_on=NOW.date()), "SSO live"),
    ],
)  # fmt: skip
def test_it_shows_each_kind_of_fact_a_reason_cites(org, account_a, kind, make, shown):
    fact = make(account_a)
    response = login(org.csm_b).get(url(account_a.pk, kind, fact.pk))
    assert response.status_code == 200
    assert shown in response.content.decode()


def test_a_fact_of_another_account_or_an_unknown_kind_is_not_found(org, account_a, account_b):
    other = Ticket.objects.create(account=account_b, opened_at=NOW)
    session = login(org.vp)
    assert session.get(url(account_a.pk, "ticket", other.pk)).status_code == 404
    assert session.get(url(account_a.pk, "invoice", other.pk)).status_code == 404
    assert session.get(url(account_a.pk, "ticket", 999999)).status_code == 404


def test_it_asks_to_log_in_and_answers_get_only(org, account_a, ticket, client):
    response = client.get(url(account_a.pk, "ticket", ticket.pk))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert login(org.csm_a).post(url(account_a.pk, "ticket", ticket.pk)).status_code == 405


def test_the_integration_user_cannot_read_it(org, account_a, ticket):
    assert login(org.integration).get(url(account_a.pk, "ticket", ticket.pk)).status_code == 403


def test_the_scorecard_reasons_link_to_the_tickets_they_cite(org, account_a, ticket):
    with clock.frozen(NOW):
        scorecards.recompute([account_a.pk])
    support = AreaScore.objects.get(account=account_a, area="support")
    cited = {r["id"] for reason in support.reasons for r in reason.get("refs", [])}
    assert ticket.pk in cited
    html = login(org.csm_a).get(f"/accounts/{account_a.pk}/").content.decode()
    assert f'href="/accounts/{account_a.pk}/facts/ticket/{ticket.pk}/">ticket #{ticket.pk}</a>' in (
        html
    )
