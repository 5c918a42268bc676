"""A team lead works the account list, opens and edits an account, and imports a file."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accounts.models import Account
from tests.factories import PASSWORD, AccountFactory


def test_a_lead_filters_sorts_opens_and_edits_an_account(
    page: Page, live_server, org, log_in, shot, transactional_db
):
    for i in range(30):
        AccountFactory(owner=org.csm_a, name=f"Team A {i:02d}", arr=1000 + i, segment="smb")
    AccountFactory(owner=org.csm_a, name="Whale Corp", arr=900_000, segment="strategic")
    AccountFactory(owner=org.csm_b, name="Other Team Co", segment="enterprise")
    log_in(page, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/accounts/")  # a lead lands on the 1:1 review
    expect(page.get_by_role("heading", name="32 accounts")).to_be_visible()
    shot(page, "list")
    # The list updates in place: a marker set on the window survives every filter change.
    page.evaluate("window.__noReload = true")
    page.get_by_label("Segment").select_option("strategic")
    expect(page.get_by_role("heading", name="1 account")).to_be_visible()
    expect(page).to_have_url(
        f"{live_server.url}/accounts/?q=&segment=strategic&team=&owner="
        "&renewal_window=&status=active&sort=name"
    )
    page.get_by_label("Segment").select_option("")
    page.get_by_role("link", name="ARR").click()
    expect(page.locator("#results tbody tr").first).to_contain_text("Whale Corp")
    page.get_by_label("Search").fill("other team")
    expect(page.get_by_role("heading", name="1 account")).to_be_visible()
    assert page.evaluate("window.__noReload") is True
    shot(page, "searched")
    page.get_by_label("Search").fill("")
    page.get_by_role("link", name="Whale Corp").click()
    expect(page.get_by_role("heading", name="Whale Corp")).to_be_visible()
    page.get_by_role("button", name="Edit account").click()
    page.get_by_label("ARR").fill("950000")
    page.get_by_label("Owner").select_option(label=str(org.csm_a2))
    shot(page, "edit")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Account saved.")).to_be_visible()
    whale = Account.objects.get(name="Whale Corp")
    assert (str(whale.arr), whale.owner) == ("950000.00", org.csm_a2)
    shot(page, "saved")


def test_a_lead_previews_a_bad_file_then_imports_a_good_one(
    page: Page, live_server, org, log_in, shot, transactional_db, tmp_path
):
    bad = tmp_path / "bad.csv"
    bad.write_text("Account Name,ARR,Owner Email\nFoo,abc,csm_a@example.com\n,5,\n")
    good = tmp_path / "good.csv"
    good.write_text(
        "Account Name,ARR,CRM ID,Owner Email\nFoo,100,F-1,csm_a@example.com\n"
        "Bar,200,F-2,csm_a2@example.com\n"
    )
    log_in(page, "lead_a", PASSWORD)
    page.goto(f"{live_server.url}/accounts/")  # a lead lands on the 1:1 review
    page.get_by_role("button", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(bad))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Problems (2)")).to_be_visible()
    expect(page.get_by_text("not a number")).to_be_visible()
    expect(page.get_by_text("name is required")).to_be_visible()
    shot(page, "problems")
    page.goto(f"{live_server.url}/accounts/import/")
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and preview").click()
    page.get_by_role("button", name="Import 2 rows").click()
    expect(page.get_by_text("Imported: 2 created, 0 updated.")).to_be_visible()
    shot(page, "imported")
    assert set(Account.objects.values_list("crm_id", flat=True)) >= {"F-1", "F-2"}
