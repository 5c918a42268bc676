"""Each role lands on its working page after logging in, and the navigation lists it first."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import login
from tests.factories import PASSWORD

USERS = {"csm_a": "csm_a", "lead_a": "lead_a", "vp": "vp", "ceo": "ceo", "exec": "executive"}
USERS["support"] = "support"

HOMES = [
    ("csm_a", "/cockpit/"),
    ("lead_a", "/scorecards/"),
    ("vp", "/escalations/"),
    ("ceo", "/summary/"),
    ("exec", "/sponsors/"),
    ("support", "/cockpit/queue/"),
]


@pytest.mark.parametrize(("username", "home"), HOMES)
def test_it_lands_each_role_on_its_working_page_after_login(org, username, home):
    client = Client()
    response = client.post("/login/", {"username": username, "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == home
    assert response.status_code == 200


@pytest.mark.parametrize(("username", "home"), HOMES)
def test_it_lists_the_working_page_first_in_the_navigation(org, username, home):
    html = login(getattr(org, USERS[username])).get(home).content.decode()
    nav = html[html.index('class="nav-links"') :]
    first = re.search(r'<a href="([^"]+)"', nav).group(1)
    assert first == home


def test_it_keeps_the_page_a_login_was_asked_for(org):
    client = Client()
    response = client.post("/login/?next=/accounts/", {"username": "vp", "password": PASSWORD})
    assert response["Location"] == "/accounts/"
