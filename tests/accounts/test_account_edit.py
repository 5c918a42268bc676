"""Editing an account in the UI: owners and their leads, VP and CEO; everyone else 403."""

import pytest

from csrisk.models import AuditEntry
from tests.conftest import login

FORM = {
    "name": "Alpha Inc",
    "arr": "65000",
    "currency": "USD",
    "segment": "mid_market",
    "tier": "none",
    "industry": "",
    "renewal_date": "2027-05-01",
    "customer_since": "",
    "lifecycle_stage": "adoption",
    "crm_id": "A-1",
    "helpdesk_org_id": "",
}


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("csm_a", 200),
        ("csm_a2", 403),
        ("csm_b", 403),
        ("lead_a", 200),
        ("lead_b", 403),
        ("vp", 200),
        ("ceo", 200),
        ("executive", 403),
        ("support", 403),
        ("integration", 403),
    ],
)
def test_it_opens_the_form_only_for_people_who_may_change(org, account_a, who, status):
    assert login(getattr(org, who)).get(f"/accounts/{account_a.pk}/edit/").status_code == status


@pytest.mark.parametrize(("who", "status"), [("csm_a2", 403), ("lead_b", 403), ("support", 403)])
def test_it_refuses_a_post_from_the_wrong_person(org, account_a, who, status):
    response = login(getattr(org, who)).post(
        f"/accounts/{account_a.pk}/edit/", {**FORM, "owner": org.csm_a.pk}
    )
    assert response.status_code == status
    account_a.refresh_from_db()
    assert str(account_a.arr) == "50000.00"


def test_it_saves_and_audits_the_change(org, account_a):
    response = login(org.csm_a).post(
        f"/accounts/{account_a.pk}/edit/", {**FORM, "owner": org.csm_a.pk}
    )
    assert response.status_code == 302
    account_a.refresh_from_db()
    assert (str(account_a.arr), str(account_a.renewal_date)) == ("65000.00", "2027-05-01")
    entry = AuditEntry.objects.get(action="account.updated")
    assert entry.changes["arr"] == ["50000.00", "65000.00"]


def test_it_does_not_let_a_csm_reassign(org, account_a):
    login(org.csm_a).post(f"/accounts/{account_a.pk}/edit/", {**FORM, "owner": org.csm_b.pk})
    account_a.refresh_from_db()
    assert account_a.owner == org.csm_a  # the owner field is disabled for CSMs


def test_it_lets_a_lead_reassign_inside_the_team_only(org, account_a):
    client = login(org.lead_a)
    form = {**FORM, "team": org.team_a.pk}  # the edit form posts the account's team
    response = client.post(f"/accounts/{account_a.pk}/edit/", {**form, "owner": org.csm_b.pk})
    assert response.status_code == 400
    response = client.post(f"/accounts/{account_a.pk}/edit/", {**form, "owner": org.csm_a2.pk})
    assert response.status_code == 302
    account_a.refresh_from_db()
    assert account_a.owner == org.csm_a2
    assert AuditEntry.objects.filter(action="account.reassigned").count() == 1


def test_it_shows_field_errors_as_400(org, account_a):
    response = login(org.vp).post(
        f"/accounts/{account_a.pk}/edit/",
        {**FORM, "arr": "-1", "renewal_date": "2027-02-30", "currency": "US1"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 0" in html
    assert "Enter a valid date." in html
    assert "3-letter currency code" in html


def test_it_refuses_a_crm_id_another_account_has(org, account_a, account_b):
    response = login(org.vp).post(
        f"/accounts/{account_a.pk}/edit/", {**FORM, "crm_id": "B-1", "owner": org.csm_a.pk}
    )
    assert response.status_code == 400
    assert b"already exists" in response.content
