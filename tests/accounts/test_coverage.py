"""Data coverage: the account page's panel and /coverage/ with its CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import SentimentResponse, Ticket, UsageSnapshot
from csrisk import clock
from tests.conftest import login
from tests.factories import AccountFactory, ContactFactory

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def book(org, account_a, account_b):
    """account_a: tickets, usage, NPS and its decision maker; account_b (csm_b): nothing
    but a champion and an NPS answer from a year ago."""
    ContactFactory(account=account_a, roles=["edm"])
    Ticket.objects.create(account=account_a, opened_at=NOW - dt.timedelta(days=20))
    UsageSnapshot.objects.create(
        account=account_a, week=(NOW - dt.timedelta(days=7)).date(), active_users=5,
        licensed_users=10,
    )  # fmt: skip
    SentimentResponse.objects.create(account=account_a, responded_at=NOW, nps=9)
    ContactFactory(account=account_b, roles=["champion"])
    SentimentResponse.objects.create(
        account=account_b, responded_at=NOW - dt.timedelta(days=365), nps=9
    )
    account_b.arr = Decimal("120000")
    account_b.save()
    return account_a, account_b


def test_it_shows_an_accounts_gaps_and_how_to_fill_them(org, book):
    _, bare = book
    html = login(org.csm_a).get(f"/accounts/{bare.pk}/").content.decode()
    panel = html.split('id="coverage-panel"')[1].split("</article>")[0]
    assert "No Executive Decision Maker on record" in panel
    assert "Add the decision maker to the contacts" in panel
    assert "No NPS or CSAT answer in the last 6 months" in panel  # a year old is a gap
    assert "Missing" in panel  # a word, not a colour alone
    assert "Contacts" in panel.split("With data:")[1]


def test_it_lists_the_gaps_of_the_whole_book_for_the_vp(org, book):
    full, bare = book
    html = login(org.vp).get("/coverage/").content.decode()
    row = html.split('id="source-decision_maker"')[1].split("</tr>")[0]
    assert "1 / 2" in row and "120,000" in row
    edm = html.split("No Executive Decision Maker on record:")[1].split("</details>")[0]
    assert f'href="/accounts/{bare.pk}/"' in edm
    assert f'href="/accounts/{full.pk}/"' not in edm  # its decision maker is on record
    assert 'href="/coverage/"' in html  # in the nav


def test_a_csm_sees_only_their_book_and_a_lead_their_teams(org, book):
    full, bare = book
    mine = login(org.csm_b).get("/coverage/").content.decode()
    assert bare.name in mine and full.name not in mine
    assert 'href="/coverage/"' not in mine  # not in a CSM's nav; the page still answers
    lead = login(org.lead_a).get("/coverage/").content.decode()
    assert bare.name not in lead  # team B's account
    assert "1 / 1" in lead.split('id="source-tickets"')[1].split("</tr>")[0]


@pytest.mark.parametrize("who", ["support", "executive", "integration"])
def test_people_without_a_book_get_a_403(org, who):
    assert login(getattr(org, who)).get("/coverage/").status_code == 403
    assert login(getattr(org, who)).get("/coverage/export.csv").status_code == 403


def test_anonymous_people_are_sent_to_log_in():
    response = Client().get("/coverage/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_it_answers_get_only(org):
    assert login(org.vp).post("/coverage/").status_code == 405


def test_an_unknown_source_is_a_400_with_the_reason(org):
    response = login(org.vp).get("/coverage/?source=gossip")
    assert response.status_code == 400
    assert "Unknown source" in response.content.decode()


def test_htmx_gets_the_table_for_one_source(org, book):
    response = login(org.vp).get("/coverage/?source=usage", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="coverage-table"')
    assert 'id="source-usage"' in html and 'id="source-tickets"' not in html
    assert response["Vary"].count("HX-Request") == 1


def test_the_csv_lists_every_gap_safely(org, book):
    _, bare = book
    bare.name = "=HYPERLINK(evil)"
    bare.save()
    response = login(org.vp).get("/coverage/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    gaps = {(r["source"], r["account"]) for r in rows}
    assert ("decision_maker", "'=HYPERLINK(evil)") in gaps  # no formula in a sheet
    assert {r["source"] for r in rows} == {
        "tickets", "usage", "sentiment", "decision_maker", "readiness", "milestones",
    }  # fmt: skip
    one = login(org.vp).get("/coverage/export.csv?source=usage")
    assert {r["source"] for r in csv.DictReader(io.StringIO(one.content.decode()))} == {"usage"}


@pytest.mark.parametrize("n", [2, 12])
def test_the_page_keeps_a_constant_query_count(org, n, django_assert_max_num_queries):
    for _ in range(n):
        ContactFactory(account=AccountFactory(owner=org.csm_a), roles=["user"])
    client = login(org.vp)
    with django_assert_max_num_queries(12):
        assert client.get("/coverage/").status_code == 200
