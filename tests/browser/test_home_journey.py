"""Each role logs in through the real login form and lands on its own working page, with
that page first in the navigation."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD

LANDINGS = [
    ("csm_a", "/cockpit/", "Cockpit"),
    ("lead_a", "/scorecards/", "Scorecards"),
    ("vp", "/escalations/", "Escalations"),
    ("ceo", "/summary/", "Executive summary"),
    ("exec", "/sponsors/", "Sponsors"),
]


def test_each_role_lands_on_its_working_page(
    live_server, org, log_in, shot, transactional_db, browser
):
    for username, path, label in LANDINGS:
        context = browser.new_context()
        page = context.new_page()
        log_in(page, username, PASSWORD)
        assert page.url == f"{live_server.url}{path}", username
        first = page.locator("nav .nav-links a").first
        expect(first).to_have_text(label)
        expect(first).to_have_attribute("aria-current", "page")
        shot(page, f"home-{username}")
        context.close()
