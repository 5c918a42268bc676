"""Sponsor pages: the program (load, capacity, coverage), the account panel, the check-in
panel on its CTA page, and their forms."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sponsors import services
from sponsors.models import CheckIn, Sponsorship
from tests.conftest import login
from tests.factories import ContactFactory
from tests.sponsors.conftest import enterprise, strategic


def test_the_program_page_shows_load_capacity_and_coverage(org, program, execs):
    ava, _ = execs
    program.capacity_calls_per_week = Decimal("0.20")
    program.save()
    services.sponsorship_assign(
        account=strategic(org, name="Big Co"), sponsor=ava, by=org.vp, force=True
    )
    enterprise(org, name="Bare Co")
    html = login(org.csm_a).get("/sponsors/").content.decode()
    assert "H2 2026" in html
    assert "1 of 2" in html and "Bare Co" in html
    assert "over capacity" in html and "Big Co" in html
    assert "not the escalation path" in html


def test_without_a_program_the_page_says_how_to_start(org):
    html = login(org.vp).get("/sponsors/").content.decode()
    assert "No program period is running" in html


def test_the_account_panel_ranks_candidates_for_the_lead(org, program, execs):
    account = enterprise(org, name="Needs Sponsor")
    html = login(org.lead_a).get(f"/accounts/{account.pk}/").content.decode()
    assert 'id="sponsor"' in html and "Eligible, no sponsor yet" in html
    assert "Ranked: prior relationship, then fit, then free capacity" in html
    assert "calls a week free" in html
    html = login(org.csm_a).get(f"/accounts/{account.pk}/").content.decode()
    assert "Ranked:" not in html  # a CSM does not assign


def test_a_lead_assigns_from_the_panel(org, program, execs):
    ava, _ = execs
    account = enterprise(org)
    client = login(org.lead_a)
    response = client.post(
        f"/sponsors/accounts/{account.pk}/assign/", {"sponsor": ava.pk, "reason": "Knows them"}
    )
    assert response.status_code == 302
    assert Sponsorship.objects.get(account=account).sponsor == ava
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "now sponsors" in html


def test_a_refusal_over_capacity_is_shown(org, program, execs):
    ava, _ = execs
    program.capacity_calls_per_week = Decimal("0.01")
    program.save()
    account = enterprise(org)
    client = login(org.lead_a)
    client.post(f"/sponsors/accounts/{account.pk}/assign/", {"sponsor": ava.pk, "force": "1"})
    assert not Sponsorship.objects.exists()
    html = client.get(f"/accounts/{account.pk}/").content.decode()
    assert "over their capacity" in html
    login(org.vp).post(
        f"/sponsors/accounts/{account.pk}/assign/", {"sponsor": ava.pk, "force": "1"}
    )
    assert Sponsorship.objects.get().over_capacity


def test_a_csm_may_not_assign(org, program, execs):
    ava, _ = execs
    account = enterprise(org)
    response = login(org.csm_a).post(
        f"/sponsors/accounts/{account.pk}/assign/", {"sponsor": ava.pk}
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    "path", ["accounts/1/assign/", "accounts/1/help/", "sponsorships/1/end/", "checkins/1/log/"]
)
def test_forms_are_post_only(org, path):
    assert login(org.vp).get(f"/sponsors/{path}").status_code == 405


def test_the_check_in_page_names_the_decision_maker_and_logs(org, program, execs):
    ava, _ = execs
    account = strategic(org, name="Call Co")
    ContactFactory(account=account, name="Erin Exec", title="COO", roles=["edm"])
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    services.checkins_create_due()
    checkin = CheckIn.objects.get()
    client = login(ava)
    html = client.get(f"/cockpit/ctas/{checkin.cta_id}/").content.decode()
    assert 'id="checkin"' in html and "Write to Erin Exec" in html
    assert "What is going badly?" in html and "Log the check-in" in html
    response = client.post(
        f"/sponsors/checkins/{checkin.pk}/log/",
        {
            "notes": "Budget under review",
            "sentiment": "negative",
            "risk_0": "Budget cut risk",
            "risk_area_0": "company",
        },
    )
    assert response.status_code == 302
    html = client.get(f"/cockpit/ctas/{checkin.cta_id}/").content.decode()
    assert "Budget cut risk" in html and "Open a risk CTA" in html
    response = client.post(f"/sponsors/checkins/{checkin.pk}/risks/0/open/")
    checkin.refresh_from_db()
    assert response["Location"] == f"/cockpit/ctas/{checkin.risks[0]['cta']}/"


def test_someone_else_cannot_log(org, program, execs):
    ava, _ = execs
    services.sponsorship_assign(account=strategic(org), sponsor=ava, by=org.vp)
    services.checkins_create_due()
    checkin = CheckIn.objects.get()
    response = login(org.csm_a).post(
        f"/sponsors/checkins/{checkin.pk}/log/", {"notes": "x", "sentiment": "neutral"}
    )
    assert response.status_code == 403


def test_the_csm_asks_the_sponsor_for_help(org, program, execs):
    ava, _ = execs
    account = strategic(org)
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    client = login(org.csm_a)
    assert "Ask the sponsor for help" in client.get(f"/accounts/{account.pk}/").content.decode()
    client.post(f"/sponsors/accounts/{account.pk}/help/", {"context": "Call their CFO"})
    assert ava.ctas.get(type="sponsor_help").description == "Call their CFO"
