"""Under the Content-Security-Policy every main page works and the browser reports nothing:
no console message, no uncaught error, no `securitypolicyviolation` (issue 19).

A CSM, a team lead, the VP and the admin each walk their pages, use the behaviours that
used to be inline handlers (print, the cockpit switcher) and htmx swaps, open the API docs,
the browsable API and the admin; last, a run of wrong passwords ends on the lockout page.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from playwright.sync_api import BrowserContext, Page, expect

from csrisk import clock
from ctas import services as ctas
from scorecards import services as scorecards
from sponsors import services as sponsors
from sponsors.models import Program
from tests.factories import PASSWORD, AccountFactory, ContactFactory

# Runs before any page script, in every frame, whatever the policy says.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
    `at ${e.sourceFile || document.location.pathname}:${e.lineNumber}`);
});
"""


EXPECTED = (
    # the lockout page's 429, which Chromium logs as a failed resource load
    "the server responded with a status of 429 (Too Many Requests)",
    # Chromium's notice when the admin's add form focuses its first field before the
    # autofocus attribute is processed: a race in the admin's own scripts, not a policy
    "Autofocus processing was blocked because a document already has a focused element.",
)


class Watch:
    """Everything the browser said while the test walked the pages."""

    def __init__(self, context: BrowserContext) -> None:
        self.problems: list[str] = []
        context.expose_function("__cspViolation", lambda text: self.problems.append(text))
        context.add_init_script(REPORT_VIOLATIONS)

    def page(self, context: BrowserContext) -> Page:
        page = context.new_page()
        page.on(
            "console",
            lambda m: self.problems.append(f"console {m.type} on {page.url}: {m.text}"),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        return page


def _book(org) -> dict:
    today = clock.today()
    Program.objects.create(
        name="This half",
        starts_on=today - dt.timedelta(days=40),
        ends_on=today + dt.timedelta(days=140),
    )
    account = AccountFactory(
        owner=org.csm_a, name="Alpha Inc", tier="strategic", arr=Decimal("500000")
    )
    other = AccountFactory(owner=org.csm_a2, name="Beta Co")
    for a in (account, other):
        ContactFactory(account=a, roles=["edm"])
    scorecards.recompute([account.pk, other.pk])
    cta = ctas.cta_create(account=account, by=org.csm_a, reason="Usage review", area="habits")
    ctas.cta_flag(cta=cta, by=org.csm_a, reason="Champion silent for three weeks")
    sponsors.sponsorship_assign(account=account, sponsor=org.executive, by=org.vp)
    return {"account": account, "cta": cta}


def test_every_main_page_runs_under_the_policy_without_a_complaint(
    live_server, org, log_in, shot, transactional_db, browser
):
    book = _book(org)
    url = live_server.url
    context = browser.new_context()
    watch = Watch(context)

    # A CSM: the book, an account, the cockpit with a CTA's tasks and chatter (htmx).
    csm = watch.page(context)
    log_in(csm, "csm_a", PASSWORD)
    csm.goto(f"{url}/accounts/")  # a CSM lands on the cockpit
    csm.get_by_label("Search").fill("alpha")
    expect(csm.get_by_role("heading", name="1 account")).to_be_visible()
    csm.get_by_role("link", name="Alpha Inc").click()
    expect(csm.locator("h1")).to_contain_text("Alpha Inc")
    shot(csm, "account")
    csm.goto(f"{url}/cockpit/")
    row = csm.locator(".cta-row", has_text="Usage review")
    row.locator("summary", has_text="Tasks and chatter").click()
    expect(row.locator(".cta-work-slot textarea")).to_be_visible()
    shot(csm, "cockpit")
    csm.goto(f"{url}/cockpit/ctas/{book['cta'].pk}/")
    expect(csm.locator("h1")).to_contain_text("Usage review")
    csm.close()
    context.clear_cookies()

    # The lead: the cockpit switcher (was an inline onchange), the 1:1 review, escalations.
    lead = watch.page(context)
    log_in(lead, "lead_a", PASSWORD)
    lead.goto(f"{url}/cockpit/")
    lead.get_by_label("Whose cockpit").select_option(str(org.csm_a.pk))
    lead.wait_for_url(f"{url}/cockpit/?user={org.csm_a.pk}")
    expect(lead.locator("h1")).to_contain_text(str(org.csm_a))
    lead.goto(f"{url}/scorecards/?csm={org.csm_a.pk}")
    expect(lead.locator("#review-escalations")).to_contain_text("Usage review")
    shot(lead, "review")
    lead.goto(f"{url}/escalations/")
    expect(lead.locator("#escalation-table")).to_contain_text("Alpha Inc")
    lead.goto(f"{url}/escalations/meetings/monday-leadership/")
    lead.evaluate("window.print = () => { window.__printed = true; }")
    lead.get_by_role("button", name="Print").click()
    assert lead.evaluate("window.__printed") is True
    lead.close()
    context.clear_cookies()

    # The VP: the summary (its print button), sponsors, signals, the API docs.
    vp = watch.page(context)
    log_in(vp, "vp", PASSWORD)
    vp.goto(f"{url}/summary/")
    expect(vp.locator("h1")).to_have_text("Executive summary")
    vp.evaluate("window.print = () => { window.__printed = true; }")
    vp.get_by_role("button", name="Print").click()
    assert vp.evaluate("window.__printed") is True
    shot(vp, "summary")
    vp.goto(f"{url}/sponsors/")
    expect(vp.locator("main")).to_contain_text("Alpha Inc")
    vp.goto(f"{url}/signals/")
    expect(vp.locator("h1")).to_be_visible()
    vp.goto(f"{url}/api/docs/")
    expect(vp.locator(".swagger-ui .info .title")).to_contain_text("csrisk API")
    vp.locator(".opblock-summary", has_text="/api/v1/accounts/").first.click()
    expect(vp.locator(".opblock-body").first).to_be_visible()
    shot(vp, "api-docs")
    vp.goto(f"{url}/api/v1/accounts/")  # DRF's browsable API, with its filter buttons
    expect(vp.locator(".request-info")).to_contain_text("GET /api/v1/accounts/")
    vp.close()
    context.clear_cookies()

    # The admin site, including the page that unlocks locked-out log-ins.
    admin = watch.page(context)
    log_in(admin, "admin", PASSWORD)
    for path in ("/admin/", "/admin/csrisk/user/", "/admin/csrisk/user/add/"):
        admin.goto(f"{url}{path}")
        expect(admin.locator("#content")).to_be_visible()
    admin.goto(f"{url}/admin/axes/accessattempt/")
    expect(admin.locator("#content h1")).to_contain_text("access attempt")
    shot(admin, "admin-attempts")
    admin.close()
    context.clear_cookies()

    # Last (it locks this address out): wrong passwords end on the lockout page.
    guesser = watch.page(context)
    guesser.goto(f"{url}/login/")
    locked = guesser.get_by_role("heading", name="Too many failed log-ins")
    for _ in range(10):
        guesser.get_by_label("Username").fill("csm_a")
        guesser.get_by_label("Password").fill("wrong-guess")
        with guesser.expect_navigation():
            guesser.get_by_role("button", name="Log in").click()
        if locked.count():
            break
    expect(guesser.get_by_role("heading", name="Too many failed log-ins")).to_be_visible()
    shot(guesser, "locked-out")
    guesser.close()
    context.close()  # no request may outlive the test and its live server

    problems = [p for p in watch.problems if not p.endswith(EXPECTED)]
    assert problems == [], "\n".join(problems)
