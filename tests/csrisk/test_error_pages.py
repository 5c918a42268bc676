"""403 and 404 pages are the site's own and say why; the navigation offers no page a role
would only meet a 403 on."""

from __future__ import annotations

import re

import pytest

from tests.conftest import login


def test_it_says_why_a_page_is_forbidden_in_the_sites_own_page(org):
    response = login(org.support).get("/scorecards/")
    assert response.status_code == 403
    html = response.content.decode()
    assert 'class="error-page"' in html and 'aria-label="Main"' in html
    assert "The 1:1 review is for team leads, the VP and the CEO." in html


def test_it_says_why_a_page_is_not_found_when_we_know(org):
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_b.pk}").content.decode()
    assert "You cannot review this person&#x27;s book." in html
    missing = login(org.lead_a).get("/accounts/999999/")
    assert missing.status_code == 404 and "No such account." in missing.content.decode()
    nowhere = login(org.lead_a).get("/no/such/page/")
    assert "There is nothing at this address." in nowhere.content.decode()
    assert "Resolver404" not in nowhere.content.decode()


def _nav(client) -> list[str]:
    html = client.get("/notifications/").content.decode()
    nav = html[html.index('class="nav-links"') : html.index("</ul>", html.index("nav-links"))]
    return re.findall(r'<a href="([^"]+)"', nav)


@pytest.mark.parametrize("who", ["support", "executive", "csm_a", "lead_a", "vp", "ceo", "admin"])
def test_it_offers_no_page_the_role_would_be_refused(org, who):
    client = login(getattr(org, who))
    for href in _nav(client):
        assert client.get(href).status_code == 200, (who, href)


def test_it_hides_the_review_and_summary_from_support(org):
    assert "/scorecards/" not in _nav(login(org.support))
    assert "/summary/" not in _nav(login(org.support))
    assert "/summary/" in _nav(login(org.ceo))
