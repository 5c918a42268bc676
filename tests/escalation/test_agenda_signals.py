"""A meeting agenda says why an item is there in the measures' words: the sentences of the
measures behind it that say yellow or red now, as configured (``measure_verdicts``)."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Contact
from escalation.models import Meeting
from escalation.selectors import agenda
from tests.conftest import api, login
from tests.conftest import configure_measure as configure
from tests.escalation.conftest import NOW, flag, open_cta, set_color, set_overall
from tests.factories import AccountFactory

FRIDAY = dt.date(2026, 11, 6)
LEFT = "company.key_contact_left"


def edm_left(account, days: int = 10, name: str = "Dana Boss") -> str:
    on = NOW.date() - dt.timedelta(days=days)
    Contact.objects.create(
        account=account, name=name, title="CFO", roles=["edm"], at_company=False, left_on=on
    )
    return f"Executive Decision Maker {name} (CFO) left on {on}"


def friday() -> Meeting:
    return Meeting.objects.get(slug="friday-cs-customer-issues")


def test_it_says_why_a_flagged_cta_is_there_in_the_measures_words(org, account_a):
    sentence = edm_left(account_a)
    esc = flag(open_cta(account_a, org.csm_a, area="company", reason="Exec gone"), org.csm_a)
    item = next(i for i in agenda(friday(), FRIDAY) if i.cta == esc.cta)
    # The decision maker gone (red); "no decision maker on record" is a gap in the data, not
    # a signal, so it says nothing here.
    assert item.why == f"Flagged Company CTA: {sentence}"
    assert item.signals == [sentence]
    html = login(org.lead_a).get("/escalations/meetings/friday-cs-customer-issues/").content
    assert sentence.encode() in html


def test_it_reads_only_the_measures_of_the_ctas_area(org, account_a):
    edm_left(account_a)  # a company signal; the flagged CTA is about habits
    esc = flag(open_cta(account_a, org.csm_a, area="habits"), org.csm_a)
    item = next(i for i in agenda(friday(), FRIDAY) if i.cta == esc.cta)
    assert (item.why, item.signals) == ("Flagged Habits CTA", [])


def test_it_says_nothing_a_disabled_measure_would_have_said(org, account_a):
    configure(LEFT, enabled=False)
    edm_left(account_a)
    esc = flag(open_cta(account_a, org.csm_a, area="company", reason="Exec gone"), org.csm_a)
    item = next(i for i in agenda(friday(), FRIDAY) if i.cta == esc.cta)
    assert item.signals == []  # and the missing decision maker is no data, not a signal
    assert "left" not in item.why


def test_a_red_renewal_says_what_its_red_areas_measures_say(org):
    renewing = AccountFactory(
        owner=org.csm_a, name="Renewing Co", renewal_date=NOW.date() + dt.timedelta(days=20)
    )
    set_overall(renewing, "red")
    set_color(renewing, "company", "red")
    sentence = edm_left(renewing)
    item = next(i for i in agenda(friday(), FRIDAY) if i.account == renewing)
    assert item.kind == "renewal"
    assert item.why == f"Renews {renewing.renewal_date:%b %d}: {sentence}"


def test_the_api_agenda_carries_the_signals(org, account_a):
    sentence = edm_left(account_a)
    esc = flag(open_cta(account_a, org.csm_a, area="company", reason="Exec gone"), org.csm_a)
    body = (
        api(org.lead_a)
        .get("/api/v1/meetings/friday-cs-customer-issues/agenda/?date=2026-11-06")
        .json()
    )
    item = next(i for i in body["items"] if i["cta"] == esc.cta_id)
    assert item["signals"][0] == sentence
    assert item["why"] == f"Flagged Company CTA: {sentence}"


def test_the_agenda_reads_the_measures_in_a_constant_number_of_queries(org):
    def queries(n: int) -> int:
        for i in range(n):
            account = AccountFactory(owner=org.csm_a, name=f"Co {n}-{i}")
            edm_left(account, name=f"Boss {n}-{i}")
            flag(open_cta(account, org.csm_a, area="company", reason="Exec gone"), org.csm_a)
        with CaptureQueriesContext(connection) as ctx:
            items = agenda(friday(), FRIDAY)
        assert sum(1 for i in items if i.signals) == len(items)
        return len(ctx.captured_queries)

    assert queries(1) == queries(5)


def test_each_meeting_covers_exactly_its_own_areas(org):
    # A flagged Support CTA on an account renewing next month is the Support meeting's, not
    # the Friday CS meeting's (its areas: habits, sentiment, company; renewals of 90 days).
    renewing = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=30))
    support = flag(
        open_cta(renewing, org.csm_a, area="support", reason="Tickets pile up"), org.csm_a
    )
    wednesday = Meeting.objects.get(slug="wednesday-support-risk")
    assert any(i.cta == support.cta for i in agenda(wednesday, FRIDAY))
    assert not any(i.cta == support.cta for i in agenda(friday(), FRIDAY))
