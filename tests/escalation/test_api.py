"""The escalation API: list with filters, escalate / acknowledge / resolve, suggestions,
agendas; errors are 4xx with a reason."""

from __future__ import annotations

import datetime as dt

from accounts.models import PriorRelationship
from escalation.models import Escalation
from tests.conftest import api, login
from tests.escalation.conftest import NOW, flag, open_cta
from tests.factories import AccountFactory


def test_it_lists_escalations_with_filters(org, flagged, account_b):
    other = flag(open_cta(account_b, org.csm_b, area="support"), org.csm_b)
    client = api(org.vp)
    body = client.get("/api/v1/escalations/").json()
    assert body["count"] == 2
    body = client.get("/api/v1/escalations/?area=support").json()
    assert [e["id"] for e in body["results"]] == [other.pk]
    first = client.get(f"/api/v1/escalations/?account={flagged.account_id}").json()["results"][0]
    assert first["level"] == 1 and first["owner"] == "csm_a"
    assert first["steps"][0]["action"] == "opened"
    assert client.get("/api/v1/escalations/?level=2").json()["count"] == 0
    assert client.get("/api/v1/escalations/?level=9").status_code == 400


def test_it_escalates_acknowledges_and_resolves(org, flagged):
    url = f"/api/v1/escalations/{flagged.pk}/"
    response = api(org.lead_a).post(url + "escalate/", {"level": 2, "reason": "Renewal"})
    assert response.status_code == 200, response.content
    assert response.json()["level"] == 2
    response = api(org.vp).post(url + "acknowledge/", {"note": "Calling them"})
    assert response.json()["acknowledged_by"] == "vp"
    response = api(org.vp).post(url + "resolve/", {"reason": "Saved"})
    assert response.json()["status"] == "resolved"
    assert [s["action"] for s in response.json()["steps"]] == [
        "opened",
        "escalated",
        "acknowledged",
        "resolved",
    ]


def test_it_refuses_with_a_reason(org, flagged):
    url = f"/api/v1/escalations/{flagged.pk}/"
    response = api(org.csm_a).post(url + "escalate/", {"level": 3, "reason": "CEO!"})
    assert response.status_code == 403
    assert "Level 3 is raised by" in response.json()["detail"]
    response = api(org.lead_a).post(url + "escalate/", {"level": 2})
    assert response.status_code == 400 and "reason" in response.json()
    response = api(org.lead_a).post(url + "escalate/", {"level": 1, "reason": "x"})
    assert response.status_code == 400
    assert (
        api(org.lead_a)
        .post(url + "acknowledge/", "not json", content_type="application/json")
        .status_code
        == 400
    )
    assert api(org.integration, token=True).get("/api/v1/escalations/").status_code == 403
    assert api().get("/api/v1/escalations/").status_code in (401, 403)
    assert api(org.vp).get("/api/v1/escalations/999999/").status_code == 404


def test_it_accepts_and_dismisses_suggestions(org, account_a):
    PriorRelationship.objects.create(account=account_a, person=org.ceo, kind="personal")
    soon = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=20))
    escalation = flag(open_cta(account_a, org.csm_a), org.csm_a)
    suggestion = escalation.suggestions.get(rule="ceo_relationship")
    url = f"/api/v1/escalations/{escalation.pk}/suggestions/{suggestion.pk}/"
    assert api(org.vp).post(url + "accept/").json()["level"] == 3
    other = flag(open_cta(soon, org.csm_a), org.csm_a)
    renewal = other.suggestions.get(rule="renewal_at_risk")
    url = f"/api/v1/escalations/{other.pk}/suggestions/{renewal.pk}/dismiss/"
    body = api(org.lead_a).post(url, {"note": "Handled"}).json()
    assert body["suggestions"][0]["status"] == "dismissed"
    assert body["level"] == 1
    wrong = f"/api/v1/escalations/{other.pk}/suggestions/{suggestion.pk}/accept/"
    assert api(org.vp).post(wrong).status_code == 404


def test_it_serves_an_agenda_and_records_a_review(org, flagged):
    client = api(org.lead_a)
    body = client.get("/api/v1/meetings/friday-cs-customer-issues/agenda/?date=2026-11-06").json()
    assert body["date"] == "2026-11-06"
    item = next(i for i in body["items"] if i["cta"] == flagged.cta_id)
    assert item["level"] == 1 and item["review"] is None
    body = client.post(
        "/api/v1/meetings/friday-cs-customer-issues/review/",
        {"date": "2026-11-06", "item": item["key"], "outcome": "Exec call", "next_step": "CSM"},
    ).json()
    reviewed = next(i for i in body["items"] if i["key"] == item["key"])
    assert reviewed["review"]["outcome"] == "Exec call"
    assert (
        client.get("/api/v1/meetings/friday-cs-customer-issues/agenda/?date=06-11").status_code
        == 400
    )
    response = client.post(
        "/api/v1/meetings/friday-cs-customer-issues/review/",
        {"date": "2026-11-06", "item": "cta:999999"},
    )
    assert response.status_code == 404
    assert client.get("/api/v1/meetings/nope/agenda/").status_code == 404


def test_the_list_runs_a_constant_number_of_queries(org, account_a, django_assert_max_num_queries):
    for i in range(6):
        flag(open_cta(account_a, org.csm_a, reason=f"Risk {i}"), org.csm_a)
    assert Escalation.objects.count() == 6
    with django_assert_max_num_queries(8):
        assert api(org.vp).get("/api/v1/escalations/").status_code == 200


def test_an_agenda_item_reads_as_the_meeting_page_shows_it(org, flagged, account_b):
    other = flag(open_cta(account_b, org.csm_b, reason="Champion quiet"), org.csm_b, "Call")
    url = "/api/v1/meetings/friday-cs-customer-issues/"
    client = api(org.csm_a, token=True)
    page = login(org.csm_a).get("/escalations/meetings/friday-cs-customer-issues/?date=2026-11-06")
    body = client.get(url + "agenda/?date=2026-11-06").json()
    shown = page.context["items"]
    assert [(i["key"], i["why"]) for i in body["items"]] == [(i.key, i.why) for i in shown]
    item = next(i for i in body["items"] if i["cta"] == other.cta_id)
    assert item["why"] == "Flagged Habits CTA"
    assert (item["cta_reason"], item["flag_reason"], item["owner"]) == (
        "Champion quiet",
        "Call",
        "csm_b",
    )
    assert [(a["area"], a["color"]) for a in item["areas"]] == [
        (a.area, a.color) for a in next(i for i in shown if i.key == item["key"]).areas
    ]
    assert (body["reviewed"], body["past_dates"]) == (0, [])
    review = {"date": "2026-11-06", "item": item["key"], "outcome": "Ok"}
    assert api(org.vp).post(url + "review/", review).status_code == 200
    body = client.get(url + "agenda/?date=2026-11-06").json()
    assert (body["reviewed"], body["past_dates"]) == (1, ["2026-11-06"])
    meetings = {m["slug"]: m for m in client.get("/api/v1/meetings/").json()["results"]}
    assert meetings["friday-cs-customer-issues"]["next_date"] == "2026-11-06"  # a Friday


def test_an_agenda_runs_a_constant_number_of_queries(
    org, account_a, account_b, django_assert_max_num_queries
):
    url = "/api/v1/meetings/friday-cs-customer-issues/agenda/?date=2026-11-06"
    flag(open_cta(account_a, org.csm_a), org.csm_a)
    client = api(org.vp)
    with django_assert_max_num_queries(30) as few:
        assert client.get(url).status_code == 200
    n = len(few.captured_queries)
    for i in range(5):
        account = AccountFactory(owner=org.csm_b if i % 2 else org.csm_a)
        flag(open_cta(account, account.owner, reason=f"Risk {i}"), account.owner)
    with django_assert_max_num_queries(n):
        assert len(client.get(url).json()["items"]) == 6
