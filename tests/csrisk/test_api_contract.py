"""Paging and filtering contract shared by every list endpoint."""

from tests.conftest import api


def test_a_page_size_or_page_given_empty_twice_or_as_words_is_a_400(org):
    client = api(org.vp)
    for query in ("page_size=", "page_size=2&page_size=3", "page=", "page=one", "page=1&page=2"):
        response = client.get(f"/api/v1/ctas/?{query}")
        assert response.status_code == 400, query
    assert client.get("/api/v1/ctas/?page=1&page_size=5").status_code == 200


def test_any_unknown_api_address_answers_json(org):
    response = api(org.vp).get("/api/v1/ctas/%0A/comments/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_api_takes_json_bodies_only(org, account_a):
    from ctas import services

    cta = services.cta_create(account=account_a, by=org.csm_a, reason="x", area="habits")
    client = api(org.csm_a)
    response = client.patch(
        f"/api/v1/ctas/{cta.pk}/", "priority=", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    response = client.patch(f"/api/v1/ctas/{cta.pk}/", {"priority": ""}, format="json")
    assert response.status_code == 400 and "priority" in response.json()


def test_an_empty_username_is_refused_not_read_as_null(org):
    response = api(org.vp).post(
        "/api/v1/accounts/", {"name": "Blank Owner", "arr": "10", "owner": ""}, format="json"
    )
    assert response.status_code == 400 and "owner" in response.json()
    response = api(org.vp).post(
        "/api/v1/accounts/", {"name": "No Owner", "arr": "10", "owner": None}, format="json"
    )
    assert response.status_code == 201, response.content
