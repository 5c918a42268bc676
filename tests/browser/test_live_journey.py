"""The bell and the cockpit counters change in an open page, without a reload."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from csrisk.notifications import notify
from ctas import services
from tests.factories import PASSWORD


def test_the_bell_and_counters_update_in_an_open_page(
    page: Page, live_server, org, account_a, log_in, shot, transactional_db, settings
):
    settings.CSRISK_LIVE_POLL_SECONDS = 1
    log_in(page, "csm_a", PASSWORD)
    page.goto(f"{live_server.url}/cockpit/")
    expect(page.get_by_label("Notifications, 0 unread")).to_be_visible()
    expect(page.locator("#cockpit-counters")).to_contain_text("0 open")
    loads = []
    page.on("load", lambda _: loads.append(1))

    services.cta_create(account=account_a, by=org.lead_a, reason="Usage review", area="habits")
    notify(user=org.csm_a, kind="cta_assigned", title="New CTA on Alpha Inc")

    expect(page.get_by_label("Notifications, 2 unread")).to_be_visible(timeout=10_000)
    expect(page.locator("#cockpit-counters")).to_contain_text("1 open", timeout=10_000)
    assert loads == []  # the page itself never reloaded
    shot(page, "live")


def test_the_escalation_queue_shows_a_new_escalation_in_an_open_page(
    page: Page, live_server, org, account_a, log_in, shot, transactional_db, settings
):
    settings.CSRISK_LIVE_POLL_SECONDS = 1
    log_in(page, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/escalations/?level=1&status=open&mine=0")
    expect(page.locator("#escalation-table")).to_contain_text("0 escalations")
    loads = []
    page.on("load", lambda _: loads.append(1))

    cta = services.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    services.cta_flag(cta=cta, by=org.csm_a, reason="Champion silent")  # level 1 opens

    expect(page.locator("#escalation-table")).to_contain_text("Usage review", timeout=10_000)
    assert loads == []
    shot(page, "live-queue")
