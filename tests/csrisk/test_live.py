"""Live fragments: the bell and the cockpit counters answer 304 while nothing changed, and
the new figures as soon as something did."""

from __future__ import annotations

import pytest

from csrisk.notifications import notify
from ctas import services
from tests.conftest import login


def test_it_answers_the_bell_then_304_until_a_notification_arrives(
    org, django_assert_max_num_queries
):
    client = login(org.lead_a)
    first = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert b"Notifications, 0 unread" in first.content
    etag = first["ETag"]
    assert "no-cache" in first["Cache-Control"] and "private" in first["Cache-Control"]
    with django_assert_max_num_queries(3):  # session, user, one aggregate
        again = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    notify(user=org.lead_a, kind="cta_flagged", title="Alpha flagged")
    changed = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert b"Notifications, 1 unread" in changed.content
    assert changed["ETag"] != etag


def test_the_bell_polls_itself_on_every_page(org):
    html = login(org.csm_a).get("/cockpit/").content.decode()
    assert 'hx-get="/notifications/bell/"' in html
    assert 'hx-trigger="every 20s"' in html


def test_the_bell_is_for_people_logged_in_and_only_read(org, client):
    assert client.get("/notifications/bell/").status_code == 302
    assert login(org.csm_a).post("/notifications/bell/").status_code == 405


def test_it_answers_the_counters_then_304_until_a_cta_changes(org, account_a):
    client = login(org.csm_a)
    first = client.get("/cockpit/counters/", HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and b"<strong>0</strong> open" in first.content
    assert client.get("/cockpit/counters/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    changed = client.get("/cockpit/counters/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and b"<strong>1</strong> open" in changed.content


@pytest.mark.parametrize(("viewer", "status"), [("lead_a", 200), ("csm_b", 403)])
def test_a_lead_polls_their_csms_counters_and_no_one_else_does(org, viewer, status):
    response = login(getattr(org, viewer)).get(f"/cockpit/counters/?user={org.csm_a.pk}")
    assert response.status_code == status
    if status == 200:
        assert f'hx-get="/cockpit/counters/?user={org.csm_a.pk}"' in response.content.decode()
