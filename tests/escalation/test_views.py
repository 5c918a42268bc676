"""Escalation pages: the list at my level, the CTA panel and its in-place actions, the
agendas and queues, the account and 1:1 panels."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from escalation import services
from escalation.models import AgendaReview
from tests.conftest import login
from tests.escalation.conftest import NOW, flag, open_cta, set_overall
from tests.factories import AccountFactory

HX = {"HTTP_HX_REQUEST": "true"}


def test_the_vp_list_opens_at_level_two(org, flagged, account_b):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="VP please")
    flag(open_cta(account_b, org.csm_b), org.csm_b, reason="Stays at level one")
    html = login(org.vp).get("/escalations/").content.decode()
    assert flagged.account.name in html
    assert account_b.name not in html
    html = login(org.vp).get("/escalations/?level=all").content.decode()
    assert account_b.name in html


def test_the_list_answers_htmx_with_the_table(org, flagged):
    response = login(org.lead_a).get("/escalations/?level=1", **HX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert flagged.account.name.encode() in response.content
    assert response["Vary"] and "HX-Request" in response["Vary"]


def test_the_list_needs_a_login(client, db):
    assert client.get("/escalations/").status_code == 302


def test_the_cta_page_shows_the_escalation_with_its_timeline(org, flagged):
    html = login(org.lead_a).get(f"/cockpit/ctas/{flagged.cta_id}/").content.decode()
    assert 'id="escalation"' in html
    assert "L1 · team" in html
    assert "Friday CS customer issues" in html
    assert "Opened (flagged)" in html
    assert "Acknowledge (level 1)" in html
    assert "Escalate" in html


def test_a_csm_sees_no_level_two_or_three_in_the_escalate_form(org, flagged):
    # by default the team lead raises level 2 (docs/security.md, "Roles")
    html = login(org.csm_a).get(f"/cockpit/ctas/{flagged.cta_id}/").content.decode()
    assert "Level 2 — VP of Customer Success" not in html
    assert "Level 3 — CEO" not in html
    assert "Acknowledge (level 1)" not in html


def test_escalating_in_place_returns_the_panel(org, flagged):
    response = login(org.lead_a).post(
        f"/escalations/{flagged.pk}/escalate/", {"level": "2", "reason": "Renewal soon"}, **HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "L2 · VP" in html and "Escalated." in html and "Renewal soon" in html
    flagged.refresh_from_db()
    assert flagged.level == 2


def test_a_refused_action_says_why(org, flagged):
    response = login(org.csm_a).post(
        f"/escalations/{flagged.pk}/escalate/", {"level": "3", "reason": "x"}, **HX
    )
    assert response.status_code == 403
    assert b"Level 3 is raised by" in response.content
    response = login(org.lead_a).post(
        f"/escalations/{flagged.pk}/escalate/", {"level": "two", "reason": "x"}, **HX
    )
    assert response.status_code == 400


def test_without_htmx_it_redirects_back_to_the_cta(org, flagged):
    response = login(org.lead_a).post(f"/escalations/{flagged.pk}/acknowledge/")
    assert response.status_code == 302
    assert response["Location"] == f"/cockpit/ctas/{flagged.cta_id}/#escalation"


@pytest.mark.parametrize("path", ["escalate", "de-escalate", "acknowledge", "resolve"])
def test_actions_are_post_only(org, flagged, path):
    assert login(org.lead_a).get(f"/escalations/{flagged.pk}/{path}/").status_code == 405


def test_suggestions_are_one_click(org, account_a):
    from accounts.models import PriorRelationship

    PriorRelationship.objects.create(account=account_a, person=org.ceo, kind="personal")
    escalation = flag(open_cta(account_a, org.csm_a), org.csm_a)
    suggestion = escalation.suggestions.get()
    html = login(org.vp).get(f"/cockpit/ctas/{escalation.cta_id}/").content.decode()
    assert "Suggest level 3" in html
    response = login(org.vp).post(f"/escalations/suggestions/{suggestion.pk}/accept/", **HX)
    assert response.status_code == 200 and "L3 · CEO" in response.content.decode()


def test_the_account_page_shows_escalations_and_the_timeline(org, flagged):
    html = login(org.csm_a).get(f"/accounts/{flagged.account_id}/").content.decode()
    assert 'id="escalation-panel"' in html
    assert "1 open" in html and "Opened (flagged)" in html


def test_the_one_to_one_review_shows_flagged_ctas_and_escalations(org, flagged):
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}").content.decode()
    assert "Flagged CTAs of" in html
    assert flagged.cta.reason in html and "L1 · team" in html


def test_the_agenda_lists_items_with_context_and_records_outcomes(org, flagged):
    renewing = AccountFactory(
        owner=org.csm_a,
        name="Renewing Co",
        renewal_date=NOW.date() + dt.timedelta(days=20),
        arr=Decimal("250000"),
    )
    set_overall(renewing, "red")
    client = login(org.lead_a)
    html = client.get("/escalations/meetings/friday-cs-customer-issues/").content.decode()
    assert "Friday, Nov 6, 2026" in html  # the next Friday
    assert flagged.account.name in html and "Renewing Co" in html and "250,000" in html
    assert "0 of 2 reviewed" in html
    response = client.post(
        "/escalations/meetings/friday-cs-customer-issues/review/",
        {
            "date": "2026-11-06",
            "item": f"cta:{flagged.cta_id}",
            "outcome": "VP call",
            "next_step": "Lead books it",
        },
        **HX,
    )
    assert response.status_code == 200 and b"Reviewed" in response.content
    review = AgendaReview.objects.get()
    assert (review.outcome, review.reviewed_by) == ("VP call", org.lead_a)
    assert flagged.steps.filter(action="commented", reason__contains="VP call").exists()
    html = client.get("/escalations/meetings/friday-cs-customer-issues/?date=2026-11-06").content
    assert b"1 of 2 reviewed" in html


def test_someone_outside_the_meeting_cannot_record(org, flagged):
    response = login(org.csm_a).post(
        "/escalations/meetings/wednesday-support-risk/review/",
        {"date": "2026-11-04", "item": f"cta:{flagged.cta_id}"},
    )
    assert response.status_code == 404  # not on the support agenda
    response = login(org.csm_a).post(
        "/escalations/meetings/friday-cs-customer-issues/review/",
        {"date": "2026-11-06", "item": f"cta:{flagged.cta_id}"},
    )
    assert response.status_code == 403


def test_the_leadership_agenda_holds_red_accounts_above_the_threshold(org):
    big = AccountFactory(owner=org.csm_a, name="Big Red", arr=Decimal("900000"))
    small = AccountFactory(owner=org.csm_a, name="Small Red", arr=Decimal("5000"))
    for account in (big, small):
        set_overall(account, "red")
    html = login(org.vp).get("/escalations/meetings/monday-leadership/").content.decode()
    assert "Big Red" in html and "Small Red" not in html


def test_a_department_queue_has_a_queue_page(org, account_a):
    flag(open_cta(account_a, org.csm_a, area="product", reason="Missing SSO"), org.csm_a)
    html = login(org.lead_a).get("/escalations/meetings/product-queue/").content.decode()
    assert "Missing SSO" in html and "as they are flagged" in html


def test_the_meetings_page_lists_meetings_and_queues(org):
    html = login(org.csm_a).get("/escalations/meetings/").content.decode()
    assert "Monday leadership review" in html and "Product queue" in html


def test_a_bad_agenda_date_is_a_404(org):
    response = login(org.lead_a).get("/escalations/meetings/monday-leadership/?date=nope")
    assert response.status_code == 404


def test_a_lead_list_opens_on_their_own_teams(org, flagged, account_b):
    flag(open_cta(account_b, org.csm_b), org.csm_b, reason="Team B trouble")
    html = login(org.lead_a).get("/escalations/").content.decode()
    assert flagged.account.name in html and account_b.name not in html
    html = login(org.lead_a).get("/escalations/?level=1&mine=0").content.decode()
    assert account_b.name in html
