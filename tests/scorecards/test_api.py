"""Scorecards over REST: in the account JSON (CONTRACT shape), lists, history, overrides."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Ticket
from csrisk import clock
from scorecards import services
from tests.conftest import api
from tests.factories import AccountFactory, ContactFactory

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
AREAS = [
    "habits",
    "sentiment",
    "company",
    "support",
    "implementation",
    "readiness",
    "product",
    "defect",
]


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def red_account(account_a):
    ContactFactory(account=account_a, roles=["edm"])
    for i in range(30):
        Ticket.objects.create(account=account_a, opened_at=NOW - dt.timedelta(days=2 + i))
    services.recompute([account_a.pk])
    return account_a


def test_the_account_json_carries_the_contract_scorecard(org, red_account):
    body = api(org.csm_a).get(f"/api/v1/accounts/{red_account.pk}/").json()
    card = body["scorecard"]
    assert card["overall"]["color"] == "red"
    assert card["overall"]["reasons"][0].startswith("Support is red: 30 non-critical tickets")
    assert list(card["areas"]) == AREAS
    support = card["areas"]["support"]
    assert set(support) >= {"color", "score", "reasons", "override"}
    assert support["color"] == "red" and support["override"] is None
    assert support["evidence"][0]["measure"] == "support.noncritical_velocity"


def test_each_area_says_whether_it_is_a_gap_in_the_data(org, red_account):
    card = api(org.csm_a).get(f"/api/v1/accounts/{red_account.pk}/").json()["scorecard"]
    assert card["overall"]["no_data"] is False
    assert {code: a["no_data"] for code, a in card["areas"].items()} == {
        code: code in {"habits", "sentiment", "readiness"} for code in AREAS
    }
    habits = card["areas"]["habits"]
    assert habits["color"] == "green"  # colours stay green, yellow, red (CONTRACT)
    assert all(e["no_data"] for e in habits["evidence"])
    assert any(r.startswith("No usage data") for r in habits["reasons"])


def test_the_schema_documents_the_no_data_flags(org):
    schema = api(org.vp).get("/api/schema/?format=json").json()["components"]["schemas"]
    assert "no_data" in schema["Area"]["properties"]
    assert "no_data" in schema["Overall"]["properties"]


def test_an_account_without_a_scorecard_says_null(org, account_b):
    assert api(org.vp).get(f"/api/v1/accounts/{account_b.pk}/").json()["scorecard"] is None


@pytest.mark.parametrize("n", [3, 30])
def test_the_account_list_keeps_a_constant_query_count(org, n, django_assert_max_num_queries):
    for account in AccountFactory.create_batch(n, owner=org.csm_a):
        ContactFactory(account=account, roles=["edm"])
    services.recompute()
    client = api(org.vp)
    with django_assert_max_num_queries(5):
        body = client.get("/api/v1/accounts/?page_size=100").json()
    assert all(a["scorecard"]["overall"]["color"] for a in body["results"])


def test_it_lists_scorecards_filtered_by_colour_and_area(org, red_account, account_b):
    ContactFactory(account=account_b, roles=["edm"])
    services.recompute()
    client = api(org.vp)
    assert [
        r["account"] for r in client.get("/api/v1/scorecards/?color=red").json()["results"]
    ] == [red_account.pk]
    body = client.get("/api/v1/scorecards/?support=green").json()
    assert [r["account"] for r in body["results"]] == [account_b.pk]
    body = client.get("/api/v1/scorecards/?worst_area=support").json()
    assert [r["account"] for r in body["results"]] == [red_account.pk]
    assert client.get("/api/v1/scorecards/?color=purple").status_code == 400
    assert client.get("/api/v1/scorecards/?support=blue").status_code == 400


def test_it_serves_history_newest_first(org, red_account):
    body = api(org.vp).get(f"/api/v1/scorecards/{red_account.pk}/history/?area=support").json()
    assert body["count"] == 1
    assert body["results"][0]["to_color"] == "red"
    assert (
        api(org.vp).get(f"/api/v1/scorecards/{red_account.pk}/history/?area=x").status_code == 400
    )


def test_it_sets_and_clears_an_override_over_rest(org, red_account):
    client = api(org.lead_a, token=True)
    url = f"/api/v1/scorecards/{red_account.pk}/override/"
    response = client.post(
        url,
        {
            "area": "support",
            "color": "yellow",
            "reason": "Migration",
            "expires_at": "2026-11-10T00:00:00Z",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["set_by"] == "lead_a"
    card = client.get(f"/api/v1/accounts/{red_account.pk}/").json()["scorecard"]
    assert card["areas"]["support"]["color"] == "yellow"
    assert card["areas"]["support"]["override"]["reason"] == "Migration"
    response = client.post(f"{url}clear/", {"area": "support"}, format="json")
    assert response.status_code == 200
    card = client.get(f"/api/v1/accounts/{red_account.pk}/").json()["scorecard"]
    assert card["areas"]["support"]["color"] == "red"
    assert client.post(f"{url}clear/", {"area": "support"}, format="json").status_code == 404


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (
            {"area": "vibes", "color": "red", "reason": "x", "expires_at": "2026-11-10T00:00:00Z"},
            "area",
        ),
        (
            {"area": "support", "color": "red", "reason": "x", "expires_at": "yesterday"},
            "expires_at",
        ),
        (
            {
                "area": "support",
                "color": "red",
                "reason": "x",
                "expires_at": "2025-01-01T00:00:00Z",
            },
            "expires_at",
        ),
        ({"area": "support", "color": "red", "expires_at": "2026-11-10T00:00:00Z"}, "reason"),
    ],
)
def test_it_rejects_bad_overrides_with_400(org, red_account, payload, field):
    response = api(org.vp).post(
        f"/api/v1/scorecards/{red_account.pk}/override/", payload, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_it_refuses_overrides_from_other_teams_and_integrations(org, red_account):
    payload = {
        "area": "support",
        "color": "green",
        "reason": "x",
        "expires_at": "2026-11-10T00:00:00Z",
    }
    url = f"/api/v1/scorecards/{red_account.pk}/override/"
    assert api(org.lead_b).post(url, payload, format="json").status_code == 403
    assert api(org.integration, token=True).post(url, payload, format="json").status_code == 403
    assert api(org.integration, token=True).get("/api/v1/scorecards/").status_code == 403


def test_it_answers_404_for_an_unknown_account(org):
    assert api(org.vp).get("/api/v1/scorecards/999999/").status_code == 404
    assert api(org.vp).post("/api/v1/scorecards/999999/override/", {}).status_code == 404


def test_it_answers_404_for_an_account_id_past_the_integer_range(org):
    # Found by the API fuzz test: the override lookup sent it to the database (a 500).
    huge = "5847839878675005944439"
    client = api(org.vp)
    response = client.post(
        f"/api/v1/scorecards/{huge}/override/clear/", {"area": "sentiment"}, format="json"
    )
    assert response.status_code == 404
    assert client.post(f"/api/v1/scorecards/{huge}/override/", {}).status_code == 404
