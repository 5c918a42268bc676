"""lead runs the 1:1 review, opens a green account's reasons, escalates a flagged CTA to
level 2; the VP sees it at their level (issue 9's second journey)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ctas import services
from escalation.models import Escalation
from scorecards import services as scorecards
from tests.factories import PASSWORD, AccountFactory, ContactFactory


def test_a_lead_escalates_a_flagged_cta_to_the_vp(
    page: Page, live_server, org, log_in, shot, transactional_db, browser
):
    green = AccountFactory(owner=org.csm_a, name="Green Co")
    troubled = AccountFactory(owner=org.csm_a, name="Troubled Co")
    for account in (green, troubled):
        ContactFactory(account=account, roles=["edm"])
    scorecards.recompute([green.pk, troubled.pk])
    cta = services.cta_create(
        account=troubled, by=org.csm_a, reason="Champion went quiet", area="company"
    )
    services.cta_flag(cta=cta, by=org.csm_a, reason="Need an exec to call their COO")

    log_in(page, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/scorecards/?csm={org.csm_a.pk}")
    panel = page.locator("#review-escalations")
    expect(panel).to_contain_text("Champion went quiet")
    expect(panel).to_contain_text("L1 · team")
    shot(page, "one-to-one")

    # a green account's reasons: ask about the greens that never reach the cockpit
    page.locator("tr", has_text="Green Co").get_by_role(
        "link", name=re.compile("green — show why")
    ).first.click()
    # the reasons open in the row under the one clicked
    expect(page.locator(".why-row td", has_text="Green Co")).to_be_visible()
    shot(page, "green-reasons")

    panel.get_by_role("link", name="Champion went quiet").click()
    escalation = page.locator("#escalation")
    expect(escalation).to_contain_text("Friday CS customer issues")
    escalation.locator("summary", has_text="Escalate").click()
    escalation.get_by_label("To").select_option("2")
    escalation.get_by_label("Why").fill("Renewal in two months and the champion is gone")
    escalation.get_by_role("button", name="Escalate").click()
    expect(page.locator("#escalation")).to_contain_text("L2 · VP")
    expect(page.locator("#escalation")).to_contain_text("Escalated.")
    shot(page, "escalated")
    assert Escalation.objects.get(cta=cta).level == 2

    context = browser.new_context()
    vp = context.new_page()
    log_in(vp, "vp", PASSWORD)
    expect(vp.get_by_label("Notifications, 1 unread")).to_be_visible()
    vp.goto(f"{live_server.url}/escalations/")
    row = vp.locator("#escalation-table tr", has_text="Troubled Co")
    expect(row).to_contain_text("L2 · VP")
    expect(row).to_contain_text("Champion went quiet")
    shot(vp, "vp-list")
    row.get_by_role("link", name="Champion went quiet").click()
    vp.locator("#escalation").get_by_role("button", name="Acknowledge (level 2)").click()
    expect(vp.locator("#escalation")).to_contain_text("acknowledged")
    shot(vp, "vp-acknowledged")
    context.close()
