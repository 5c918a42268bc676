"""csm flags a CTA in the cockpit; the account turns red; the lead is told."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ctas import services
from scorecards import services as scorecards
from scorecards.models import AreaScore
from tests.factories import PASSWORD, ContactFactory


def test_a_csm_flags_a_cta_and_the_lead_hears_of_it(
    page: Page, live_server, org, account_a, log_in, shot, transactional_db, browser
):
    ContactFactory(account=account_a, roles=["edm"])
    scorecards.recompute([account_a.pk])
    services.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    assert AreaScore.objects.get(account=account_a, area="habits").color == "yellow"

    log_in(page, "csm_a", PASSWORD)
    page.goto(f"{live_server.url}/cockpit/")
    row = page.locator(".cta-row", has_text="Usage review")
    shot(page, "cockpit")
    row.locator("summary", has_text="Flag").click()
    row.get_by_label("What help do you need?").fill("Champion silent for three weeks")
    row.get_by_role("button", name="Flag it").click()
    expect(page.locator(".cta-row", has_text="Usage review")).to_contain_text("⚑ Flagged")
    expect(page.locator("#cockpit-counters")).to_contain_text("1 flagged")
    shot(page, "flagged")

    page.goto(f"{live_server.url}/accounts/{account_a.pk}/")
    habits = page.locator("#area-habits")
    expect(habits).to_contain_text("Red")
    expect(habits).to_contain_text("Flagged CTA “Usage review”: Champion silent")
    shot(page, "account-red")

    context = browser.new_context()
    lead = context.new_page()
    log_in(lead, "lead_a", PASSWORD)
    # told once: the flag, which says the account is now red (no second "turned red")
    expect(lead.get_by_label("Notifications, 1 unread")).to_be_visible()
    lead.goto(f"{live_server.url}/notifications/")
    expect(lead.get_by_text("flagged a CTA on Alpha Inc")).to_be_visible()
    expect(lead.get_by_text("Alpha Inc is now red")).to_be_visible()
    shot(lead, "lead-notified")
    context.close()  # no request may outlive the test and its live server
