"""The signal feed over the API: GET /api/v1/signals/ (the /signals/ page's list and
filters) and /api/v1/signals/{id}/ (its detail page), for people; POST on the same
address stays ingestion, for integrations only."""

from __future__ import annotations

import pytest

from signals.models import Signal
from tests.conftest import api, login
from tests.signals.helpers import ticket


@pytest.fixture
def seeded(org, account_a, account_b, client):
    """30 tickets of account A (one solved later: version 2), 3 of account B, one parked."""
    answer = client.post(
        "/api/v1/signals/",
        data=[ticket(f"T-{i}", account_a.crm_id) for i in range(30)]
        + [ticket(f"B-{i}", account_b.pk, priority="urgent") for i in range(3)]
        + [{**ticket("Z-1", account="UNKNOWN-7"), "occurred_at": "2026-09-01T00:00:00Z"}],
        format="json",
    )
    assert answer.status_code == 202, answer.json()
    client.post("/api/v1/signals/", data=ticket("T-0", account_a.crm_id, status="solved"))
    return account_a, account_b


def test_it_lists_the_feed_as_the_page_does(org, seeded):
    body = api(org.csm_a, token=True).get("/api/v1/signals/?page_size=1000").json()
    page = login(org.csm_a).get("/signals/?page=1")
    assert body["count"] == page.context["page"].paginator.count == 34
    first = [s.pk for s in page.context["page"]]
    assert [r["id"] for r in body["results"][: len(first)]] == first
    t0 = next(r for r in body["results"] if r["external_id"] == "T-0")
    assert (t0["source"], t0["kind"], t0["version"]) == ("helpdesk", "ticket", 2)
    assert (t0["account"], t0["account_name"]) == (seeded[0].pk, seeded[0].name)
    assert t0["status"] == "processed" and t0["sent_via"] == "token"
    parked = next(r for r in body["results"] if r["external_id"] == "Z-1")
    assert (parked["account"], parked["org_ref"], parked["status"]) == (
        None,
        "UNKNOWN-7",
        "unmatched",
    )


def test_it_pages_the_feed(org, seeded):
    client = api(org.vp, token=True)
    first = client.get("/api/v1/signals/?page_size=20").json()
    assert (first["count"], len(first["results"])) == (34, 20)
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 14 and second["next"] is None
    assert {r["id"] for r in first["results"]}.isdisjoint(r["id"] for r in second["results"])


def test_it_filters_by_account_kind_status_source_and_time(org, seeded):
    _a, b = seeded
    client = api(org.lead_a, token=True)

    def ids(query: str) -> set[str]:
        return {r["external_id"] for r in client.get(f"/api/v1/signals/?{query}").json()["results"]}

    assert ids(f"account={b.pk}") == {"B-0", "B-1", "B-2"}
    assert ids("status=unmatched") == {"Z-1"}
    assert ids("occurred_before=2026-09-15T00:00:00Z") == {"Z-1"}
    assert "Z-1" not in ids("occurred_after=2026-09-15T00:00:00%2B02:00&page_size=100")
    assert ids("q=B-1") == {"B-1"}
    assert client.get("/api/v1/signals/?kind=usage").json()["count"] == 0
    assert client.get("/api/v1/signals/?source=crm").json()["count"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "kind=nope",
        "status=",
        "account=abc",
        "account=99999999999999999999",
        "occurred_after=yesterday",
        "occurred_after=0001-01-01T00:00:00%2B05:00",
        "kind=ticket&kind=usage",
        "page_size=0",
        "q=a%00b",
        "source=%00",
    ],
)
def test_it_answers_a_bad_filter_with_a_400_naming_it(org, seeded, query):
    response = api(org.csm_a, token=True).get(f"/api/v1/signals/?{query}")
    assert response.status_code == 400, response.content
    assert query.split("=")[0] in response.json()


def test_it_shows_one_signal_with_its_payload_sender_and_versions(org, seeded):
    signal = Signal.objects.get(external_id="T-0")
    body = api(org.support, token=True).get(f"/api/v1/signals/{signal.pk}/").json()
    assert body["payload"]["attributes"]["status"] == "solved"
    assert body["provenance"] == signal.provenance
    assert [(v["version"], v["payload"]["attributes"]["status"]) for v in body["versions"]] == [
        (1, "open")
    ]
    assert api(org.support).get("/api/v1/signals/999999/").status_code == 404
    assert api(org.support).get("/api/v1/signals/99999999999999999999/").status_code == 404


def test_it_lets_people_read_and_only_integrations_push(org, seeded, client):
    signal = Signal.objects.first()
    for path in ("/api/v1/signals/", f"/api/v1/signals/{signal.pk}/"):
        assert client.get(path).status_code == 403  # the integration's token
        assert api().get(path).status_code == 401
        assert api(org.executive, token=True).get(path).status_code == 200
    person = api(org.vp, token=True).post("/api/v1/signals/", data=ticket("P-1"), format="json")
    assert person.status_code == 403
    assert client.post("/api/v1/signals/", data=ticket("P-1"), format="json").status_code == 202
    assert api(org.vp).post(f"/api/v1/signals/{signal.pk}/", data={}).status_code == 405


def test_it_lists_in_a_constant_number_of_queries(
    org, seeded, client, django_assert_max_num_queries
):
    reader = api(org.csm_a, token=True)
    with django_assert_max_num_queries(10) as few:
        assert reader.get("/api/v1/signals/?page_size=1000").status_code == 200
    n = len(few.captured_queries)
    client.post(
        "/api/v1/signals/",
        data=[ticket(f"M-{i}", seeded[1].pk) for i in range(40)],
        format="json",
    )
    with django_assert_max_num_queries(n):
        assert reader.get("/api/v1/signals/?page_size=1000").json()["count"] == 74
