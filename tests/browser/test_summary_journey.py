"""The VP opens the executive summary, prints it legibly, opens a blind-spot account,
takes a one-click action and reads the signal backtest (issue 8's journey)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from accounts.models import CompetitorEvent, RenewalOutcome, Ticket
from csrisk import clock
from ctas.models import Cta
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.insights.helpers import NOW, book, days_ago


def test_the_vp_reads_the_summary_and_acts_on_a_blind_spot(
    page: Page, live_server, org, log_in, shot, transactional_db, browser
):
    b = book(org)
    for i in range(10):
        Ticket.objects.create(account=b["gamma"], opened_at=days_ago(5 + i))
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    # Two past renewals, so the backtest page has something to read.
    CompetitorEvent.objects.create(
        account=b["beta"], competitor="Rival", activity="evaluation", occurred_at=days_ago(400)
    )
    RenewalOutcome.objects.create(
        account=b["beta"], renewal_date=days_ago(300).date(), outcome="churned"
    )
    RenewalOutcome.objects.create(
        account=b["gamma"], renewal_date=days_ago(300).date(), outcome="renewed"
    )
    with clock.frozen(NOW):
        log_in(page, "vp", PASSWORD)
        page.goto(f"{live_server.url}/summary/")
        expect(page.locator("h1")).to_have_text("Executive summary")
        expect(page.locator("#table-segment")).to_contain_text("Enterprise")
        expect(page.locator("#blind-spots")).to_contain_text("Gamma")
        expect(page.locator("#blind-spots")).to_contain_text(
            "vs 0 before (+125% against a floor of 8)"
        )
        shot(page, "summary")

        page.emulate_media(media="print")
        shot(page, "summary-print")
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "test_summary_journey-summary.pdf").write_bytes(pdf)
        # Legible on paper: no table text under 9 pt (12 px), no zoom; three sheets at most.
        assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) <= 3
        sizes = page.eval_on_selector_all(
            "#action-list td, #table-segment td, .small-print",
            "cells => cells.map(c => parseFloat(getComputedStyle(c).fontSize))",
        )
        assert sizes and min(sizes) >= 12, sizes
        assert page.eval_on_selector(".summary-page", "e => getComputedStyle(e).zoom") in ("1", "")
        page.emulate_media(media="screen")

        # one click opens the response that fits the competitor evaluation
        row = page.locator("#action-list tr", has_text="Alpha")
        row.get_by_role("button").click()
        expect(row).to_contain_text("CTA #")
        assert Cta.objects.get(account=b["alpha"]).area == "product"
        shot(page, "action-opened")

        page.locator("#blind-spots").get_by_role("link", name="Gamma").click()
        expect(page.locator("h1")).to_contain_text("Gamma")
        shot(page, "blind-spot-account")

        page.goto(f"{live_server.url}/summary/backtest/")
        expect(page.locator("h1")).to_have_text("Signal backtest")
        # The first visit queues a run (a thread here: no broker) and polls its progress;
        # the results replace the progress bar when it is done.
        expect(page.locator("#backtest")).to_contain_text("Competitor exposure", timeout=60_000)
        expect(page.locator(".reading")).to_contain_text("2 renewals on record, 1 churned")
        shot(page, "backtest")
