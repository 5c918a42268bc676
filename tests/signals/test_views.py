"""The signals pages: feed, health, unmatched + match, CSV upload, the account timeline."""

from __future__ import annotations

import pytest

from accounts.models import PeopleChange, Ticket
from csrisk.models import AuditEntry
from signals.models import Signal, SignalImport
from tests.conftest import login
from tests.signals.conftest import committing
from tests.signals.helpers import ticket


@pytest.fixture
def seeded(org, account_a, client):
    client.post(
        "/api/v1/signals/",
        data=[ticket(f"T-{i}") for i in range(30)] + [ticket("Z-1", account="UNKNOWN-7")],
        format="json",
    )
    client.post("/api/v1/signals/", data=[{"kind": "nope"}], format="json")
    return account_a


@pytest.mark.parametrize(
    "url", ["/signals/", "/signals/health/", "/signals/unmatched/", "/signals/upload/"]
)
def test_it_needs_a_person_for_each_page(org, url):
    assert login(org.vp).get(url).status_code == 200
    assert login(org.integration).get(url).status_code == 403
    from django.test import Client

    assert Client().get(url).status_code == 302


def test_it_filters_the_feed_and_answers_htmx_with_the_table(
    org, seeded, django_assert_max_num_queries
):
    client = login(org.csm_a)
    with django_assert_max_num_queries(8):
        page = client.get("/signals/")
    assert page.status_code == 200
    assert b"T-29" in page.content
    only = client.get("/signals/?status=unmatched", HTTP_HX_REQUEST="true")
    assert b"<h1>" not in only.content
    assert b"Z-1" in only.content and b"T-29" not in only.content
    assert page["Vary"] and "HX-Request" in page["Vary"]


def test_it_shows_volume_errors_and_unmatched_per_source(
    org, seeded, django_assert_max_num_queries
):
    client = login(org.vp)
    with django_assert_max_num_queries(6):
        page = client.get("/signals/health/").content.decode()
    assert "helpdesk" in page
    assert "31" in page  # 30 + the parked one
    assert "1 signals, 1 organisation" in page
    assert "unknown kind" in page


def test_it_releases_parked_signals_on_match_and_audits_it(
    org, seeded, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    client = committing(login(org.vp), django_capture_on_commit_callbacks)
    with django_assert_max_num_queries(5):
        assert b"UNKNOWN-7" in client.get("/signals/unmatched/").content
    response = client.post(
        "/signals/unmatched/match/",
        {"source": "helpdesk", "org_ref": "UNKNOWN-7", "account": seeded.crm_id},
    )
    assert response.status_code == 302
    assert Signal.objects.get(external_id="Z-1").status == "processed"
    assert Ticket.objects.get(external_id="Z-1").account == seeded
    assert AuditEntry.objects.get(action="signals.org_matched").actor == org.vp


def test_it_refuses_a_match_to_another_teams_account(org, seeded, account_b):
    login(org.csm_a).post(
        "/signals/unmatched/match/",
        {"source": "helpdesk", "org_ref": "UNKNOWN-7", "account": account_b.crm_id},
    )
    assert Signal.objects.get(external_id="Z-1").status == "unmatched"


def test_it_answers_405_to_get_on_match(org):
    assert login(org.vp).get("/signals/unmatched/match/").status_code == 405


def test_it_shows_the_timeline_on_the_account_page(org, seeded):
    page = login(org.csm_a).get(f"/accounts/{seeded.pk}/").content.decode()
    assert "Signal timeline" in page
    assert "T-29" in page


def _upload(client, name, text, kind):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        "/signals/upload/",
        {"kind": kind, "file": SimpleUploadedFile(name, text.encode(), "text/csv")},
    )


def test_it_previews_every_problem_of_a_ticket_csv_and_stores_nothing(org, account_a):
    client = login(org.vp)
    text = (
        "ticket_id,account_crm_id,created_at,priority,status,tags\n"
        "T-1,A-1,2026-10-01T09:00:00Z,high,open,api;latency\n"
        "T-2,NOPE,2026-10-01T09:00:00Z,normal,open,\n"
        "T-3,A-1,yesterday,normal,open,\n"
        "T-1,A-1,2026-10-02T09:00:00Z,normal,open,\n"
    )
    response = _upload(client, "t.csv", text, "tickets")
    job = SignalImport.objects.get()
    assert response.url == f"/signals/upload/{job.pk}/"
    assert job.status == "invalid"
    assert [(e["row"], e["column"]) for e in job.errors] == [
        (3, "account_crm_id"), (4, "created_at"), (5, "ticket_id"),
    ]  # fmt: skip
    assert "Fix these" in client.get(response.url).content.decode()
    assert client.post(f"/signals/upload/{job.pk}/commit/").status_code == 302
    assert not Signal.objects.exists()


def test_it_stores_a_contact_change_csv_all_at_once(
    org, account_a, django_capture_on_commit_callbacks
):
    client = committing(login(org.vp), django_capture_on_commit_callbacks)
    text = (
        "account,change,email,name,title,roles,date\n"
        "A-1,left,dana@alpha.example,Dana Boss,CFO,Executive Decision Maker,2026-10-01\n"
        "A-1,joined,eve@alpha.example,Eve New,VP Ops,champion,2026-10-02\n"
    )
    response = _upload(client, "c.csv", text, "contact_changes")
    job = SignalImport.objects.get()
    assert job.status == "previewed", job.errors
    client.post(f"/signals/upload/{job.pk}/commit/")
    job.refresh_from_db()
    assert (job.status, job.accepted) == ("done", 2)
    assert PeopleChange.objects.filter(account=account_a).count() == 2
    assert response.status_code == 302
    again = client.post(f"/signals/upload/{job.pk}/commit/")
    assert again.status_code == 302
    assert Signal.objects.count() == 2


def test_it_keeps_uploads_for_leads_and_up(org):
    assert login(org.csm_a).get("/signals/upload/").status_code == 403


def test_it_audits_rules_edited_in_the_admin(org):
    from signals.models import SignalRule

    rule = SignalRule.objects.get(name="Champion left")
    response = login(org.admin).post(
        f"/admin/signals/signalrule/{rule.pk}/change/",
        {
            "name": rule.name,
            "active": "",
            "trigger": rule.trigger,
            "roles": '["champion"]',
            "activities": "[]",
            "threshold": "",
            "window_days": 90,
            "cta_area": "company",
            "cta_priority": "high",
            "cta_reason": rule.cta_reason,
            "cta_description": "",
        },
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="signals.rule_changed")
    assert entry.changes["active"] == [True, False]


def test_it_shows_the_facts_on_record_when_no_integration_sent_signals(org, account_a):
    import datetime as dt

    from accounts.models import CompetitorEvent, Ticket
    from csrisk import clock

    now = clock.now()
    ticket = Ticket.objects.create(
        account=account_a, subject="Export fails", priority="normal", opened_at=now, source="csv"
    )
    CompetitorEvent.objects.create(
        account=account_a,
        competitor="Rival Inc",
        activity="evaluation",
        occurred_at=now - dt.timedelta(days=3),
    )
    page = login(org.csm_a).get(f"/accounts/{account_a.pk}/").content.decode()
    assert "No signals received" not in page
    assert f'href="/accounts/{account_a.pk}/facts/ticket/{ticket.pk}/"' in page
    assert "Normal support ticket, new: “Export fails”" in page
    assert page.index("Export fails") < page.index("Evaluation of Rival Inc")  # newest first
