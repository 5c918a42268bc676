"""Backfills are not news: history imported by REST, webhook, CSV or command updates facts,
colours and history without alerting; rule CTAs open only for what is still true now."""

from __future__ import annotations

import datetime as dt
import json
import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from csrisk import clock
from csrisk.models import AuditEntry, Notification
from ctas.models import Cta
from scorecards import services as scorecards
from scorecards.models import ColorChange, Scorecard
from signals.models import Backfill, Signal, SignalImport
from tests.conftest import login
from tests.factories import ContactFactory
from tests.signals.conftest import committing
from tests.signals.helpers import ticket, zendesk_api_ticket

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
URL = "/api/v1/signals/"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def old_tickets(n: int = 30) -> list[dict]:
    """Non-critical tickets of the last weeks: enough to turn support (and overall) red."""
    return [
        {**ticket(f"T-{i}"), "occurred_at": (NOW - dt.timedelta(days=3 + i)).isoformat()}
        for i in range(n)
    ]


def old_competitor(days_ago: int = 300) -> dict:
    """A competitor evaluation that ended long ago: true then, not now."""
    return {
        "source": "crm",
        "external_id": "C-1",
        "kind": "competitor",
        "account": {"external_id": "A-1"},
        "occurred_at": (NOW - dt.timedelta(days=days_ago)).isoformat(),
        "attributes": {"competitor": "Rival", "activity": "evaluation"},
    }


@pytest.fixture
def green_account(account_a, django_capture_on_commit_callbacks):
    ContactFactory(account=account_a, roles=["edm"])
    with django_capture_on_commit_callbacks(execute=True):
        scorecards.recompute([account_a.pk])
    assert Scorecard.objects.get(account=account_a).color != "red"
    return account_a


def post(client, payload, url: str = URL):
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def test_it_backfills_over_rest_without_telling_anyone(client, green_account):
    response = post(client, [*old_tickets(), old_competitor()], url=f"{URL}?backfill=true")
    assert response.status_code == 202, response.content
    # Nobody is told of news that is history…
    told = sorted(Notification.objects.values_list("kind", "title"))
    assert not [t for t in told if t[0] == "scorecard_red"], told
    # …a competitor evaluation of 300 days ago is no reason to open a CTA today…
    assert not Cta.objects.filter(reason__startswith="Evaluating a competitor").exists()
    # …but the facts and the colours moved, and the history says where that came from.
    assert Scorecard.objects.get(account=green_account).color == "red"
    overall = ColorChange.objects.get(account=green_account, area="overall", to_color="red")
    assert overall.cause == "backfill"
    # Velocity is spiking now (the tickets are recent): still true, so its CTA opens.
    assert Cta.objects.filter(reason="Non-critical ticket velocity spiking").exists()
    backfill = Backfill.objects.get()
    assert response.json()["backfill"] == {
        "id": backfill.pk,
        "url": f"/api/v1/backfills/{backfill.pk}/",
    }
    assert (backfill.via, backfill.accepted, backfill.created_by.username) == (
        "rest",
        31,
        "integration",
    )
    assert Signal.objects.filter(backfill=backfill).count() == 31
    # Who did it: the backfill's audit row names the integration user.
    entry = AuditEntry.objects.get(action="signals.backfill_started")
    assert entry.actor.username == "integration" and entry.target_id == backfill.pk


def test_the_same_signals_sent_as_news_still_alert(client, green_account):
    response = post(client, [*old_tickets(), old_competitor(days_ago=10)])
    assert response.status_code == 202
    assert "backfill" not in response.json()
    red = Notification.objects.filter(kind="scorecard_red")
    assert sorted(red.values_list("user__username", flat=True)) == ["csm_a", "lead_a"]
    assert Cta.objects.filter(reason="Evaluating a competitor: Rival").exists()
    assert not ColorChange.objects.filter(cause="backfill").exists()
    assert not Backfill.objects.exists()


def test_a_backfilled_condition_still_true_now_opens_its_cta(client, green_account):
    response = post(client, [old_competitor(days_ago=5)], url=f"{URL}?backfill=1")
    assert response.status_code == 202
    assert Cta.objects.filter(reason="Evaluating a competitor: Rival").exists()


def test_a_long_backfill_goes_on_over_several_requests(client, green_account):
    first = post(client, old_tickets(10), url=f"{URL}?backfill=true").json()["backfill"]
    more = [{**t, "external_id": f"X-{i}"} for i, t in enumerate(old_tickets(20))]
    second = post(client, more, url=f"{URL}?backfill_id={first['id']}")
    assert second.status_code == 202
    assert second.json()["backfill"]["id"] == first["id"]
    assert Backfill.objects.get().accepted == 30
    assert not Notification.objects.filter(kind="scorecard_red").exists()
    status = client.get(first["url"])
    assert status.status_code == 200
    body = status.json()
    assert (body["status"], body["stored"], body["processed"], body["pending"]) == (
        "done", 30, 30, 0,
    )  # fmt: skip
    assert body["last_at"].startswith("2026-10-30")


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("backfill=perhaps", "backfill='perhaps': use true or false"),
        ("backfill_id=999", "no open backfill #999 of this sender"),
        ("backfill_id=abc", "backfill_id='abc' is not a number"),
    ],
)
def test_it_refuses_a_bad_backfill_flag_and_stores_nothing(client, green_account, query, reason):
    response = post(client, old_tickets(2), url=f"{URL}?{query}")
    assert response.status_code == 400
    assert reason in response.json()["detail"]
    assert not Signal.objects.exists()


def test_a_backfill_status_is_for_its_sender_and_leadership(client, org, green_account):
    url = post(client, old_tickets(2), url=f"{URL}?backfill=true").json()["backfill"]["url"]
    assert login(org.csm_a).get(url).status_code == 404
    assert login(org.vp).get(url).json()["sender"].startswith("integration")
    assert client.get("/api/v1/backfills/999/").status_code == 404


def test_a_later_live_version_of_a_backfilled_signal_is_news(client, green_account):
    post(client, [ticket("T-9")], url=f"{URL}?backfill=true")
    assert Signal.objects.get().backfill_id is not None
    post(client, [ticket("T-9", status="solved", solved_at="2026-11-01T10:00:00Z")])
    assert Signal.objects.get().backfill_id is None


def test_a_signal_dated_after_the_backfill_started_is_news(client, green_account):
    late = [{**t, "occurred_at": (NOW + dt.timedelta(hours=1)).isoformat()} for t in old_tickets()]
    with clock.frozen(NOW + dt.timedelta(hours=2)):
        start = post(client, [ticket("T-first")], url=f"{URL}?backfill=true").json()
    # The backfill started an hour before these tickets happened: they are news.
    Backfill.objects.update(started_at=NOW)
    with clock.frozen(NOW + dt.timedelta(hours=2)):
        post(client, late, url=f"{URL}?backfill_id={start['backfill']['id']}")
    assert Notification.objects.filter(kind="scorecard_red").exists()


def test_it_backfills_over_a_webhook(client, org, green_account):
    green_account.helpdesk_org_id = "509974"
    green_account.save()
    tickets = []
    for i in range(30):
        t = zendesk_api_ticket(ticket_id=7000 + i, org=509974)["ticket"]
        at = (NOW - dt.timedelta(days=3 + i)).isoformat()
        tickets.append({**t, "priority": "normal", "status": "open", "created_at": at,
                        "updated_at": at})  # fmt: skip
    response = client.post(
        "/api/v1/webhooks/zendesk/?backfill=true",
        data=json.dumps({"tickets": tickets}),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    assert response.json()["accepted"] == 30
    assert Backfill.objects.get().via == "webhook"
    assert Scorecard.objects.get(account=green_account).color == "red"
    assert not Notification.objects.filter(kind="scorecard_red").exists()
    assert ColorChange.objects.filter(area="overall", cause="backfill").exists()


def test_a_csv_upload_marked_as_history_is_a_backfill(
    org, green_account, django_capture_on_commit_callbacks
):
    client = committing(login(org.lead_a), django_capture_on_commit_callbacks)
    lines = ["ticket_id,account_crm_id,created_at,priority,status"] + [
        f"T-{i},A-1,{(NOW - dt.timedelta(days=3 + i)).isoformat()},normal,open" for i in range(30)
    ]
    upload = SimpleUploadedFile("past.csv", "\n".join(lines).encode(), "text/csv")
    client.post("/signals/upload/", {"kind": "tickets", "file": upload, "history": "on"})
    job = SignalImport.objects.get()
    assert job.history and job.status == "previewed"
    client.post(f"/signals/upload/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == "done" and job.backfill.via == "csv"
    assert job.backfill.created_by == org.lead_a
    assert Scorecard.objects.get(account=green_account).color == "red"
    assert not Notification.objects.filter(kind="scorecard_red").exists()
    page = client.get(f"/signals/upload/{job.pk}/").content.decode()
    assert f"Backfill #{job.backfill.pk}: done" in page
    assert "30 of 30 signals processed" in page
    fragment = client.get(f"/signals/upload/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.content.decode().lstrip().startswith('<section id="backfill-progress"')


def test_a_csv_upload_not_marked_is_news(org, green_account, django_capture_on_commit_callbacks):
    client = committing(login(org.lead_a), django_capture_on_commit_callbacks)
    lines = ["ticket_id,account_crm_id,created_at,priority,status"] + [
        f"T-{i},A-1,{(NOW - dt.timedelta(days=3 + i)).isoformat()},normal,open" for i in range(30)
    ]
    upload = SimpleUploadedFile("now.csv", "\n".join(lines).encode(), "text/csv")
    client.post("/signals/upload/", {"kind": "tickets", "file": upload})
    client.post(f"/signals/upload/{SignalImport.objects.get().pk}/commit/")
    assert Notification.objects.filter(kind="scorecard_red").count() == 2


def test_the_command_imports_a_file_of_history(
    tmp_path, org, green_account, django_capture_on_commit_callbacks
):
    path = tmp_path / "past.jsonl"
    path.write_text("\n".join(json.dumps(t) for t in [*old_tickets(), old_competitor()]))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_signals", str(path), "--as-user", "vp", "--chunk", "10", stdout=out)
    printed = out.getvalue()
    assert "10/31 stored (32%), 10 processed" in printed
    assert "31/31 stored (100%), 31 processed" in printed
    backfill = Backfill.objects.get()
    assert f"Backfill #{backfill.pk} by vp: 31 new or updated" in printed
    assert (backfill.via, backfill.created_by, backfill.finished_at) == ("command", org.vp, NOW)
    assert Scorecard.objects.get(account=green_account).color == "red"
    assert not Notification.objects.filter(kind="scorecard_red").exists()
    assert not Cta.objects.filter(reason__startswith="Evaluating a competitor").exists()
    assert set(Signal.objects.values_list("sent_by__username", flat=True)) == {"vp"}


def test_the_command_reads_a_csv_in_the_batch_shape(tmp_path, org, green_account):
    path = tmp_path / "past.csv"
    path.write_text(
        "source,external_id,kind,account,occurred_at,attributes\n"
        'helpdesk,T-1,ticket,A-1,2026-10-01T09:30:00Z,"{""priority"": ""high""}"\n'
        "crm,C-1,competitor,A-1,2026-01-01T00:00:00Z,"
        '"{""competitor"": ""Rival"", ""activity"": ""mention""}"\n'
    )
    call_command("import_signals", str(path), stdout=StringIO())
    assert sorted(Signal.objects.values_list("external_id", "status")) == [
        ("C-1", "processed"), ("T-1", "processed"),
    ]  # fmt: skip


def test_the_command_reports_every_bad_row_and_imports_nothing(tmp_path, org, green_account):
    path = tmp_path / "bad.jsonl"
    rows = [
        json.dumps(ticket("T-1")),
        "{not json",
        json.dumps({**ticket("T-2"), "kind": "weather"}),
        json.dumps(ticket("T-3", account="NOPE")),
        json.dumps(ticket("T-1")),
    ]
    path.write_text("\n".join(rows))
    err = StringIO()
    with pytest.raises(
        CommandError, match=re.escape("4 problem(s) in bad.jsonl; nothing was imported")
    ):
        call_command("import_signals", str(path), stdout=StringIO(), stderr=err)
    report = err.getvalue()
    assert "line 2:" in report and "not JSON" in report
    assert "line 3:" in report and "unknown kind 'weather'" in report
    assert "line 4, account: 'NOPE' no account has this CRM id" in report
    assert "line 5, external_id: 'T-1' also on line 1" in report
    assert not Signal.objects.exists() and not Backfill.objects.exists()


def test_the_command_refuses_a_missing_or_unreadable_file(tmp_path, org):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_signals", str(tmp_path / "none.jsonl"))
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(CommandError, match="Missing column"):
        call_command("import_signals", str(path))


def test_the_account_timeline_marks_the_backfill(client, org, green_account):
    post(client, old_tickets(), url=f"{URL}?backfill=true")
    with clock.frozen(NOW + dt.timedelta(days=1)):
        page = login(org.csm_a).get(f"/accounts/{green_account.pk}/").content.decode()
    assert "Backfill of 30 signals from helpdesk by integration" in page
    assert "2026-10-01 to 2026-10-30" in page
    assert "(from a backfill)" in page  # the colour history bar says where red came from


def test_an_idempotency_key_tells_a_backfill_from_the_same_body_as_news(client, green_account):
    body = json.dumps(old_tickets(1))
    first = client.post(
        f"{URL}?backfill=true", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )
    again = client.post(URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k")
    assert (first.status_code, again.status_code) == (202, 422)


def test_a_news_task_that_takes_the_backlog_settles_a_backfill_quietly(
    green_account, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from signals.provenance import SYSTEM_SENDER
    from signals.services import signals_store
    from signals.services.backfills import backfill_start
    from signals.tasks import process_signals_task

    # A backfill's batch still waits for its own task when a news request's task runs: the
    # news task takes the backlog, history included, and history still tells nobody.
    backfill = backfill_start(via="rest", sender=SYSTEM_SENDER, by=None)
    with transaction.atomic():
        history = signals_store(old_tickets(), publish=False, backfill=backfill)
    news = {**ticket("T-news"), "occurred_at": (NOW - dt.timedelta(hours=1)).isoformat()}
    with transaction.atomic():
        (stored,) = signals_store([news], publish=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert process_signals_task([stored.id]) == len(history) + 1
    assert not Signal.objects.exclude(status="processed").exists()
    assert not Notification.objects.filter(kind="scorecard_red").exists()
    assert Scorecard.objects.get(account=green_account).color == "red"
    overall = ColorChange.objects.get(account=green_account, area="overall", to_color="red")
    assert overall.cause == "backfill"
