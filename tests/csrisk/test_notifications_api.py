"""A person's notifications over the API: their own only, the unread filter, marking one
or all read with the page's rule (``csrisk.notifications.mark_read``)."""

from __future__ import annotations

import datetime as dt

import pytest

from csrisk import clock
from csrisk.models import Notification
from tests.conftest import api, login


def note(user, title: str, minutes_ago: int = 0, read: bool = False) -> Notification:
    at = clock.now() - dt.timedelta(minutes=minutes_ago)
    return Notification.objects.create(
        user=user, kind="cta", title=title, created_at=at, read_at=at if read else None
    )


@pytest.fixture
def notes(org) -> dict[str, Notification]:
    return {
        "new": note(org.csm_a, "Flagged: Alpha", 1),
        "old": note(org.csm_a, "Red: Alpha", 60),
        "read": note(org.csm_a, "Seen", 120, read=True),
        "other": note(org.csm_b, "For B"),
    }


def test_it_lists_your_own_notifications_newest_first(org, notes):
    body = api(org.csm_a, token=True).get("/api/v1/notifications/").json()
    assert [r["title"] for r in body["results"]] == ["Flagged: Alpha", "Red: Alpha", "Seen"]
    assert [r["unread"] for r in body["results"]] == [True, True, False]
    page = login(org.csm_a).get("/notifications/")
    assert [n.pk for n in page.context["items"]] == [r["id"] for r in body["results"]]


def test_it_filters_unread_and_pages(org, notes):
    client = api(org.csm_a)
    unread = client.get("/api/v1/notifications/?unread=true").json()
    assert [r["title"] for r in unread["results"]] == ["Flagged: Alpha", "Red: Alpha"]
    read = client.get("/api/v1/notifications/?unread=false").json()
    assert [r["title"] for r in read["results"]] == ["Seen"]
    first = client.get("/api/v1/notifications/?page_size=2").json()
    assert (first["count"], len(first["results"])) == (3, 2)
    assert len(client.get(first["next"]).json()["results"]) == 1


@pytest.mark.parametrize(
    "query", ["unread=maybe", "unread=", "page_size=-1", "page=abc", "kind=a%00b"]
)
def test_it_answers_a_bad_parameter_with_a_400(org, notes, query):
    response = api(org.csm_a).get(f"/api/v1/notifications/?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_it_marks_one_read_and_counts_what_is_left(org, notes):
    client = api(org.csm_a, token=True)
    response = client.post(f"/api/v1/notifications/{notes['new'].pk}/read/")
    assert response.json() == {"marked": 1, "unread": 1}
    notes["new"].refresh_from_db()
    assert notes["new"].read_at is not None
    # Again: nothing left to mark, no error.
    again = client.post(f"/api/v1/notifications/{notes['new'].pk}/read/")
    assert again.json() == {"marked": 0, "unread": 1}


def test_it_does_not_find_someone_elses(org, notes):
    client = api(org.vp, token=True)
    assert client.get(f"/api/v1/notifications/{notes['other'].pk}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{notes['other'].pk}/read/").status_code == 404
    notes["other"].refresh_from_db()
    assert notes["other"].read_at is None


def test_it_marks_all_yours_read_and_no_one_elses(org, notes):
    response = api(org.csm_a).post("/api/v1/notifications/read-all/")
    assert response.json() == {"marked": 2, "unread": 0}
    assert not Notification.objects.filter(user=org.csm_a, read_at=None).exists()
    assert Notification.objects.get(pk=notes["other"].pk).read_at is None


def test_it_is_for_people(org, notes):
    integration = api(org.integration, token=True)
    assert integration.get("/api/v1/notifications/").status_code == 403
    assert integration.post("/api/v1/notifications/read-all/").status_code == 403
    assert api().get("/api/v1/notifications/").status_code == 401
    assert api(org.csm_a).get("/api/v1/notifications/read-all/").status_code == 405


def test_it_lists_in_a_constant_number_of_queries(org, notes, django_assert_max_num_queries):
    client = api(org.csm_a, token=True)
    with django_assert_max_num_queries(10) as few:
        client.get("/api/v1/notifications/")
    n = len(few.captured_queries)
    for i in range(30):
        note(org.csm_a, f"More {i}", 5)
    with django_assert_max_num_queries(n):
        assert client.get("/api/v1/notifications/").json()["count"] == 33


@pytest.mark.parametrize("raw", ["99999999999999999999", "0"])
def test_it_does_not_find_an_id_past_any_row(org, notes, raw):
    client = api(org.csm_a)
    assert client.get(f"/api/v1/notifications/{raw}/").status_code == 404
    assert client.post(f"/api/v1/notifications/{raw}/read/").status_code == 404
