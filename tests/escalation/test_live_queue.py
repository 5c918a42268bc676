"""The escalation queue refreshes itself: 204 while nothing moved, the table when it did."""

from __future__ import annotations

import re

from ctas import services as ctas
from tests.conftest import login


def _poll_url(html: str) -> str:
    return re.search(r'class="live-poll" hx-get="([^"]+)"', html).group(1).replace("&amp;", "&")


def test_it_answers_204_until_an_escalation_moves_then_the_table(org, account_a):
    client = login(org.lead_a)
    html = client.get("/escalations/?level=1&status=open&mine=0").content.decode()
    url = _poll_url(html)
    assert "level=1" in url and "fp=" in url
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 204
    cta = ctas.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    ctas.cta_flag(cta=cta, by=org.csm_a, reason="Champion silent")  # opens level 1
    changed = client.get(url, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert changed["HX-Retarget"] == "#escalation-table"
    body = changed.content.decode()
    assert "Usage review" in body
    # the new table carries the new fingerprint: polling it again is quiet
    assert client.get(_poll_url(body), HTTP_HX_REQUEST="true").status_code == 204


def test_the_live_queue_is_for_people_logged_in_and_read_only(org, client):
    assert client.get("/escalations/live/").status_code == 302
    assert login(org.vp).post("/escalations/live/").status_code == 405
