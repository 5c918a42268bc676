"""A sponsor opens a due check-in, sees whom to write to, logs it with a risk, and a risk
CTA appears for the CSM (issue 9's third journey)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from playwright.sync_api import Page, expect

from csrisk import clock
from ctas.models import Cta
from sponsors import services
from sponsors.models import Program
from tests.factories import PASSWORD, AccountFactory, ContactFactory


def test_a_sponsor_logs_a_check_in_and_opens_a_risk(
    page: Page, live_server, org, log_in, shot, transactional_db
):
    today = clock.today()
    Program.objects.create(
        name="This half",
        starts_on=today - dt.timedelta(days=40),
        ends_on=today + dt.timedelta(days=140),
    )
    account = AccountFactory(
        owner=org.csm_a, name="Sponsored Co", tier="strategic", arr=Decimal("500000")
    )
    ContactFactory(
        account=account,
        name="Erin Exec",
        title="COO",
        email="erin@sponsored.example",
        roles=["edm"],
    )
    services.sponsorship_assign(account=account, sponsor=org.executive, by=org.vp)
    services.checkins_create_due()

    log_in(page, "exec", PASSWORD)
    page.goto(f"{live_server.url}/sponsors/")
    expect(page.locator("#my-sponsorships")).to_contain_text("Sponsored Co")
    shot(page, "program")
    page.locator("#my-sponsorships").get_by_role("link", name="Sponsored Co").click()
    panel = page.locator("#checkin")
    expect(panel).to_contain_text("Write to Erin Exec, COO")
    expect(panel).to_contain_text("erin@sponsored.example")
    expect(panel).to_contain_text("Are we on track to the goals you bought us for?")
    shot(page, "check-in")
    panel.get_by_label("What you heard").fill("Their COO is trialling a rival in a sandbox.")
    panel.get_by_label("Negative").check()
    panel.get_by_label("Risk 1").fill("Rival proof of concept under way")
    panel.get_by_label("Area").first.select_option("product")
    panel.get_by_role("button", name="Log the check-in").click()
    expect(page.locator("#checkin")).to_contain_text("Logged")
    shot(page, "logged")
    page.locator("#checkin").get_by_role("button", name="Open a risk CTA").click()
    expect(page.locator("h1")).to_contain_text("Sponsor found: Rival proof of concept under way")
    shot(page, "risk-cta")
    cta = Cta.objects.get(account=account, type="risk")
    assert (cta.area, cta.owner) == ("product", org.csm_a)
