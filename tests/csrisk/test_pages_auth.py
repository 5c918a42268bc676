"""Every page needs login; integration users get no page at all."""

import pytest

from tests.conftest import login

PAGES = [
    "/",
    "/accounts/",
    "/cockpit/",
    "/scorecards/",
    "/escalations/",
    "/sponsors/",
    "/signals/",
    "/summary/",
]


@pytest.mark.parametrize("path", PAGES)
def test_it_redirects_anonymous_visitors_to_login(db, client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("path", PAGES)
def test_it_refuses_integration_users_every_page(org, path):
    response = login(org.integration).get(path)
    assert response.status_code == 403


def test_it_logs_in_with_username_and_password(org, client):
    from tests.factories import PASSWORD

    response = client.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_it_rejects_a_wrong_password(org, client):
    response = client.post("/login/", {"username": "csm_a", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content


def test_it_logs_out_on_post_only(org):
    client = login(org.csm_a)
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/accounts/").status_code == 302


def test_it_keeps_the_admin_to_staff(org):
    assert login(org.csm_a).get("/admin/").status_code == 302
    assert login(org.admin).get("/admin/").status_code == 200
