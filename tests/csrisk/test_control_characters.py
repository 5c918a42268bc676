"""Names and titles refuse control characters (a CR/LF in a name breaks e-mail headers)."""

from __future__ import annotations

import pytest

from accounts.importing import build_plan
from accounts.models import Account, Contact
from ctas.models import Cta
from tests.accounts.test_account_edit import FORM
from tests.conftest import api, login

# A NUL is already refused by Django itself ("Null characters are not allowed.").
BAD = ["Amber\r\nBank", "Amber\nBank", "Amber\rBank", "Amber\tBank", "A\x1bB", "A\u2028B"]


@pytest.mark.parametrize("name", BAD)
def test_it_refuses_a_control_character_in_an_account_name_on_the_api(org, name):
    response = api(org.vp).post("/api/v1/accounts/", {"name": name, "arr": "1000"}, format="json")
    assert response.status_code == 400, response.content
    assert "control character" in str(response.json()["name"])
    assert not Account.objects.exists()


@pytest.mark.parametrize("field", ["name", "title"])
def test_it_refuses_a_control_character_in_a_contact_name_or_title_on_the_api(
    org, account_a, field
):
    payload = {"account": account_a.pk, "name": "Pat", "title": "CIO", field: "Pat\r\nBcc: x"}
    response = api(org.csm_a).post("/api/v1/contacts/", payload, format="json")
    assert response.status_code == 400, response.content
    assert "control character" in str(response.json()[field])
    assert not Contact.objects.exists()


def test_it_refuses_a_control_character_in_a_cta_reason_on_the_api(org, account_a):
    response = api(org.csm_a).post(
        "/api/v1/ctas/",
        {"account": account_a.pk, "reason": "NPS\r\ndrop", "area": "sentiment"},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "control character" in str(response.json()["reason"])
    assert not Cta.objects.exists()


def test_it_shows_a_form_error_for_a_control_character_on_the_account_page(org, account_a):
    response = login(org.csm_a).post(
        f"/accounts/{account_a.pk}/edit/", {**FORM, "name": "Alpha\r\nInc", "owner": org.csm_a.pk}
    )
    assert response.status_code == 400
    assert "control character" in response.content.decode()
    account_a.refresh_from_db()
    assert "\n" not in account_a.name


def test_it_says_why_a_cta_with_a_control_character_is_not_opened(org, account_a):
    data = {"type": "risk", "area": "support", "reason": "Support\nescalation", "priority": "high"}
    response = login(org.csm_a).post(f"/cockpit/accounts/{account_a.pk}/open/", data, follow=True)
    assert "control character" in response.content.decode()
    assert not Cta.objects.exists()


def test_it_refuses_a_task_title_with_a_control_character(org, account_a):
    from ctas import services

    cta = services.cta_create(account=account_a, by=org.csm_a, reason="Check", area="support")
    client = login(org.csm_a)
    response = client.post(f"/cockpit/ctas/{cta.pk}/tasks/", {"title": "Call\r\nBcc"}, follow=True)
    assert "control character" in response.content.decode()
    assert not cta.tasks.exists()


def test_it_reports_a_control_character_per_row_in_an_account_import(org):
    content = b'Account Name,Annual Revenue,CRM ID\n"Amber\r\nBank",1000,X-1\nGood Co,2000,X-2\n'
    plan = build_plan(content, by=org.vp)
    assert not plan.ok
    assert [(e.row, e.column) for e in plan.errors] == [(2, "Account Name")]
    assert "control character" in plan.errors[0].reason


def test_it_reports_a_control_character_per_row_in_a_contact_import(org, account_a):
    content = (
        b"Account CRM ID,Name,Email,Title\n"
        b'A-1,Erin Doe,erin@alpha.example,"Head\nof IT"\n'
        b'A-1,"Pat\rRoe",pat@alpha.example,CIO\n'
    )
    plan = build_plan(content, by=org.csm_a)
    assert not plan.ok
    assert sorted((e.row, e.column) for e in plan.errors) == [(2, "Title"), (3, "Name")]
    assert all("control character" in e.reason for e in plan.errors)


def test_it_refuses_a_control_character_in_a_team_name_in_the_admin(org):
    from csrisk.models import Team

    response = login(org.admin).post(
        "/admin/csrisk/team/add/", {"name": "Team\r\nBcc", "function": "cs", "lead": ""}
    )
    assert response.status_code == 200  # the form again, with its error
    assert "control character" in response.content.decode()
    assert not Team.objects.filter(name__startswith="Team").exists()
