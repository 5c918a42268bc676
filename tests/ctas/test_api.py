"""The CTA API: CONTRACT fields, commands, filters, permissions, constant queries."""

from __future__ import annotations

import pytest

from ctas import services
from ctas.models import Cta
from scorecards.models import AreaScore
from tests.conftest import api
from tests.factories import ContactFactory

CONTRACT = {
    "id",
    "account",
    "owner",
    "type",
    "area",
    "reason",
    "priority",
    "status",
    "flagged",
    "due_date",
}


@pytest.fixture
def cta(org, account_a):
    ContactFactory(account=account_a, roles=["edm"])
    return services.cta_create(
        account=account_a, by=org.csm_a, reason="Usage review", area="habits"
    )


def test_a_cta_has_the_contract_fields(org, cta):
    body = api(org.csm_a, token=True).get(f"/api/v1/ctas/{cta.pk}/").json()
    assert set(body) >= CONTRACT
    assert (body["owner"], body["area"], body["flagged"]) == ("csm_a", "habits", False)


def test_flag_and_unflag_over_rest(org, cta):
    client = api(org.csm_a, token=True)
    response = client.post(f"/api/v1/ctas/{cta.pk}/flag/", {"reason": "Need the VP"}, format="json")
    assert response.status_code == 200
    assert response.json()["flagged"] is True
    assert AreaScore.objects.get(account=cta.account, area="habits").color == "red"
    assert (
        client.post(f"/api/v1/ctas/{cta.pk}/flag/", {"reason": "again"}, format="json").status_code
        == 400
    )
    assert (
        client.post(f"/api/v1/ctas/{cta.pk}/unflag/", {}, format="json").json()["flagged"] is False
    )


def test_a_flag_without_reason_is_a_400(org, cta):
    response = api(org.csm_a).post(f"/api/v1/ctas/{cta.pk}/flag/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_a_csm_cannot_flag_another_teams_cta(org, cta):
    response = api(org.csm_b, token=True).post(
        f"/api/v1/ctas/{cta.pk}/flag/", {"reason": "x"}, format="json"
    )
    assert response.status_code == 403
    cta.refresh_from_db()
    assert cta.flagged is False


def test_integration_tokens_cannot_touch_ctas(org, cta):
    client = api(org.integration, token=True)
    assert client.get("/api/v1/ctas/").status_code == 403
    assert client.post(f"/api/v1/ctas/{cta.pk}/flag/", {"reason": "x"}).status_code == 403


def test_create_close_snooze_comment(org, account_a):
    client = api(org.csm_a)
    response = client.post(
        "/api/v1/ctas/",
        {"account": account_a.pk, "reason": "NPS drop", "area": "sentiment", "priority": "high"},
        format="json",
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    assert (
        client.post(
            f"/api/v1/ctas/{pk}/snooze/", {"until": "2099-01-01"}, format="json"
        ).status_code
        == 400
    )
    response = client.post(
        f"/api/v1/ctas/{pk}/comment/", {"body": "@lead_a fyi <b>x</b>"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["mentions"] == ["lead_a"]
    assert client.get(f"/api/v1/ctas/{pk}/comments/").json()["count"] == 1
    response = client.post(f"/api/v1/ctas/{pk}/close/", {"outcome": "resolved"}, format="json")
    assert response.json()["status"] == "closed"
    assert (
        client.post(f"/api/v1/ctas/{pk}/close/", {"outcome": "resolved"}, format="json").status_code
        == 400
    )


def test_patch_reassigns_and_updates(org, cta):
    client = api(org.lead_a)
    response = client.patch(
        f"/api/v1/ctas/{cta.pk}/", {"owner": "csm_a2", "priority": "urgent"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["owner"], response.json()["priority"]) == ("csm_a2", "urgent")
    assert (
        client.patch(f"/api/v1/ctas/{cta.pk}/", {"owner": "csm_b"}, format="json").status_code
        == 403
    )


def test_filters(org, cta, account_b):
    services.cta_flag(cta=cta, by=org.csm_a, reason="help")
    services.cta_create(account=account_b, by=org.csm_b, reason="Other", area="support")
    client = api(org.vp)
    assert client.get("/api/v1/ctas/?flagged=true").json()["count"] == 1
    assert client.get("/api/v1/ctas/?owner=csm_b").json()["count"] == 1
    assert client.get("/api/v1/ctas/?area=support").json()["count"] == 1
    assert client.get("/api/v1/ctas/?area=vibes").status_code == 400
    assert client.get("/api/v1/ctas/?flagged=maybe").status_code == 400


@pytest.mark.parametrize("n", [2, 30])
def test_the_list_keeps_a_constant_query_count(org, account_a, n, django_assert_max_num_queries):
    for i in range(n):
        services.cta_create(account=account_a, by=org.csm_a, reason=f"R{i}", area="habits")
    client = api(org.vp)
    with django_assert_max_num_queries(4):
        assert client.get("/api/v1/ctas/?page_size=100").json()["count"] == n


def test_playbooks_are_readable(org):
    body = api(org.csm_a).get("/api/v1/playbooks/").json()
    names = [p["name"] for p in body["results"]]
    assert "Sponsor check-in" in names
    checkin = next(p for p in body["results"] if p["name"] == "Sponsor check-in")
    assert "Are we on track to the goals you bought us for?" in checkin["steps"][0]["guidance"]
    assert Cta.objects.count() == 0
