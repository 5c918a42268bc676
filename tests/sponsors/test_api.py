"""The sponsor API: programs, assign / end, help requests, check-ins and their log."""

from __future__ import annotations

from decimal import Decimal

from sponsors import services
from sponsors.models import CheckIn
from tests.conftest import api
from tests.sponsors.conftest import enterprise, strategic


def test_it_assigns_and_refuses_with_reasons(org, program, execs):
    account = strategic(org)
    response = api(org.lead_a).post(
        "/api/v1/sponsorships/", {"account": account.pk, "sponsor": "ava", "reason": "Fit"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["sponsor"] == "ava"
    response = api(org.csm_a).post(
        "/api/v1/sponsorships/", {"account": enterprise(org).pk, "sponsor": "ava"}
    )
    assert response.status_code == 403
    program.capacity_calls_per_week = Decimal("0.25")
    program.save()
    response = api(org.lead_a).post(
        "/api/v1/sponsorships/", {"account": enterprise(org).pk, "sponsor": "ava"}
    )
    assert response.status_code == 400
    assert "over their capacity" in str(response.json())
    response = api(org.lead_a).post("/api/v1/sponsorships/", {"account": 999999, "sponsor": "x"})
    assert response.status_code == 400
    body = api(org.vp).get("/api/v1/sponsorships/?current=true").json()
    assert body["count"] == 1
    sid = body["results"][0]["id"]
    response = api(org.vp).post(f"/api/v1/sponsorships/{sid}/end/", {"reason": "Downgraded"})
    assert response.json()["ended_on"] is not None
    assert api(org.vp).get("/api/v1/sponsor-programs/").json()["count"] == 1


def test_it_logs_a_check_in_and_opens_a_risk(org, program, execs):
    ava, _ = execs
    account = strategic(org)
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    services.checkins_create_due()
    checkin = CheckIn.objects.get()
    listed = api(ava).get("/api/v1/checkins/?sponsor=ava&logged=false").json()
    assert [c["id"] for c in listed["results"]] == [checkin.pk]
    response = api(ava).post(
        f"/api/v1/checkins/{checkin.pk}/log/",
        {
            "notes": "Worried about price",
            "sentiment": "negative",
            "risks": [{"area": "sentiment", "description": "Price pushback"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["risks"][0]["description"] == "Price pushback"
    response = api(ava).post(f"/api/v1/checkins/{checkin.pk}/risks/0/open/")
    assert response.status_code == 201 and response.json()["area"] == "sentiment"
    bad = api(ava).post(
        f"/api/v1/checkins/{checkin.pk}/log/", {"notes": "x", "sentiment": "meh"}, format="json"
    )
    assert bad.status_code == 400


def test_it_takes_help_requests(org, program, execs):
    ava, _ = execs
    account = strategic(org)
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    response = api(org.csm_a).post(
        "/api/v1/sponsorships/help/", {"account": account.pk, "context": "Call their CFO"}
    )
    assert response.status_code == 201 and response.json()["owner"] == "ava"
    response = api(org.csm_a).post("/api/v1/sponsorships/help/", {"account": account.pk})
    assert response.status_code == 400
