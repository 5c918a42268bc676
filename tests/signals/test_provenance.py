"""Who may push signals, under which source, and the record of who sent each one
(issue 19, trust boundaries)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import override_settings

from csrisk import clock
from signals import services
from signals.models import Signal, SignalImport
from tests.conftest import api, login
from tests.factories import AccountFactory
from tests.signals.conftest import committing
from tests.signals.helpers import dumps, ticket, zendesk_event, zendesk_headers

URL = "/api/v1/signals/"


def post(client, payload):
    return client.post(URL, data=json.dumps(payload), content_type="application/json")


def zendesk(ext: str = "Z-1", account: str = "B-1", updated_at: str = "", **attrs) -> dict:
    out = {**ticket(ext, account, **attrs), "source": "zendesk"}
    return {**out, "updated_at": updated_at} if updated_at else out


def integration_token(username: str, capsys, *sources: str) -> str:
    args = ["api_token", username, "--create-integration"]
    if sources:
        args += ["--sources", ",".join(sources)]
    call_command(*args)
    return capsys.readouterr().out.strip()


def token_client(key: str, capture):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return committing(client, capture)


@pytest.mark.parametrize("role", ["csm_a", "lead_a", "support", "vp", "admin"])
def test_it_refuses_signals_from_people(org, account_b, role, django_capture_on_commit_callbacks):
    client = committing(api(getattr(org, role), token=True), django_capture_on_commit_callbacks)
    response = post(client, [zendesk(updated_at="2026-10-09T00:00:00Z")])
    assert response.status_code == 403, response.content
    assert "integration" in response.json()["detail"]
    assert not Signal.objects.exists()


def test_it_refuses_a_person_on_an_unsigned_webhook(org, account_b):
    response = api(org.csm_a, token=True).post(
        "/api/v1/webhooks/zendesk/", data=dumps(zendesk_event()), content_type="application/json"
    )
    assert response.status_code == 403
    assert "integration" in response.json()["detail"]


def test_it_rejects_only_the_items_outside_the_tokens_sources(
    org, account_b, capsys, django_capture_on_commit_callbacks
):
    key = integration_token("jira-bot", capsys, "jira")
    client = token_client(key, django_capture_on_commit_callbacks)
    jira = {**ticket("ENG-1", "B-1"), "source": "jira"}
    response = post(client, [zendesk("Z-1"), jira])
    assert response.status_code == 202, response.json()
    first, second = response.json()["results"]
    assert first["status"] == "rejected"
    assert "zendesk" in first["reason"] and "jira" in first["reason"]
    assert second["status"] == "accepted"
    assert list(Signal.objects.values_list("source", flat=True)) == ["jira"]


def test_it_keeps_a_stored_version_from_a_sender_without_the_sources_binding(
    org, account_b, capsys, django_capture_on_commit_callbacks
):
    zendesk_bot = token_client(
        integration_token("zendesk-bot", capsys, "zendesk"), django_capture_on_commit_callbacks
    )
    other = token_client(integration_token("other-bot", capsys), django_capture_on_commit_callbacks)
    stored = post(zendesk_bot, zendesk(status="open", updated_at="2026-10-02T00:00:00Z"))
    assert stored.status_code == 202
    forged = post(other, zendesk(status="solved", updated_at="2026-10-09T00:00:00Z"))
    assert forged.status_code == 400, forged.json()
    result = forged.json()["results"][0]
    assert result["status"] == "rejected"
    assert "zendesk" in result["reason"]
    signal = Signal.objects.get()
    assert (signal.version, signal.payload["attributes"]["status"]) == (1, "open")
    # The bound sender itself may send the later version.
    again = post(zendesk_bot, zendesk(status="solved", updated_at="2026-10-09T00:00:00Z"))
    assert again.json()["results"][0] == {**again.json()["results"][0], "version": 2}
    page = login(org.csm_a).get(f"/signals/{signal.pk}/").content.decode()
    assert "Earlier versions" in page and page.count("zendesk-bot with token") == 2


def test_it_lets_an_unbound_sender_update_only_its_own_signals(
    org, account_b, capsys, django_capture_on_commit_callbacks
):
    one = token_client(integration_token("one-bot", capsys), django_capture_on_commit_callbacks)
    two = token_client(integration_token("two-bot", capsys), django_capture_on_commit_callbacks)
    post(one, zendesk(status="open", updated_at="2026-10-02T00:00:00Z"))
    refused = post(two, zendesk(status="solved", updated_at="2026-10-09T00:00:00Z"))
    assert refused.json()["results"][0]["status"] == "rejected"
    ok = post(one, zendesk(status="solved", updated_at="2026-10-09T00:00:00Z"))
    assert ok.json()["results"][0]["version"] == 2


def test_it_records_the_user_and_token_that_sent_a_signal(
    org, account_b, capsys, django_capture_on_commit_callbacks
):
    key = integration_token("zendesk-bot", capsys, "zendesk")
    client = token_client(key, django_capture_on_commit_callbacks)
    answer = post(client, zendesk()).json()
    signal = Signal.objects.get()
    assert answer["sender"] == signal.sender
    assert signal.sent_by.username == "zendesk-bot"
    assert "zendesk-bot" in signal.sender and key[:8] in signal.sender
    assert key not in signal.sender
    page = login(org.csm_a).get(f"/signals/{signal.pk}/")
    assert page.status_code == 200
    assert "zendesk-bot" in page.content.decode()


SECRET = "dGhpcyBpcyBhIHNhbXBsZSBzZWNyZXQ="


@override_settings(ZENDESK_WEBHOOK_SECRET=SECRET)
def test_it_records_a_signed_webhook_as_the_sender(org, django_capture_on_commit_callbacks):
    AccountFactory(owner=org.csm_a, helpdesk_org_id="8447346622462", crm_id="Z-1")
    body = dumps(zendesk_event())
    with clock.frozen(dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)):
        response = committing(api(), django_capture_on_commit_callbacks).post(
            "/api/v1/webhooks/zendesk/",
            data=body,
            content_type="application/json",
            **zendesk_headers(SECRET, body, "2026-10-08T11:00:00Z"),
        )
    assert response.status_code == 202
    signal = Signal.objects.get()
    assert signal.sender == "webhook zendesk with verified signature"
    assert signal.sent_by is None


CSV = (
    "ticket_id,account,opened_at,priority,status\n"
    "T-1,A-1,2026-10-01,high,open\n"
    "T-2,B-1,2026-10-01,normal,open\n"
)


def test_it_rejects_csv_rows_on_accounts_outside_the_leads_teams(org, account_a, account_b):
    upload = services.signal_import_create(
        by=org.lead_a, filename="t.csv", content=CSV.encode(), kind="tickets"
    )
    assert upload.status == "invalid"
    assert [(e["row"], "team" in e["reason"]) for e in upload.errors] == [(3, True)]


def test_it_lets_the_vp_upload_for_any_account_and_records_the_uploader(
    org, account_a, account_b, django_capture_on_commit_callbacks
):
    upload = services.signal_import_create(
        by=org.vp, filename="t.csv", content=CSV.encode(), kind="tickets"
    )
    assert upload.status == "previewed", upload.errors
    with django_capture_on_commit_callbacks(execute=True):
        services.signal_import_commit(upload=upload, by=org.vp)
    senders = set(Signal.objects.values_list("sender", flat=True))
    assert senders == {f"CSV upload by vp (upload #{upload.pk})"}
    assert set(Signal.objects.values_list("sent_by", flat=True)) == {org.vp.pk}


def test_it_checks_a_csv_files_accounts_with_one_query_whatever_its_length(
    org, account_a, django_assert_num_queries
):
    AccountFactory.create_batch(3, owner=org.csm_a)
    short = "ticket_id,account,opened_at\nT-1,A-1,2026-10-01\n"
    long = "ticket_id,account,opened_at\n" + "".join(f"T-{i},A-1,2026-10-01\n" for i in range(200))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for text in (short, long):
        with CaptureQueriesContext(connection) as ctx:
            services.signal_import_create(
                by=org.lead_a, filename="t.csv", content=text.encode(), kind="tickets"
            )
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert SignalImport.objects.filter(status="previewed").count() == 2


def test_it_refuses_a_csv_row_that_would_overwrite_an_integrations_signal(
    org, account_a, capsys, django_capture_on_commit_callbacks
):
    client = token_client(
        integration_token("zendesk-bot", capsys, "zendesk"), django_capture_on_commit_callbacks
    )
    post(client, zendesk("Z-9", "A-1", status="open"))
    text = "ticket_id,account,opened_at,status,source\nZ-9,A-1,2026-10-01,solved,zendesk\n"
    upload = services.signal_import_create(
        by=org.lead_a, filename="t.csv", content=text.encode(), kind="tickets"
    )
    assert upload.status == "invalid"
    assert "zendesk" in upload.errors[0]["reason"]
    assert Signal.objects.get().payload["attributes"]["status"] == "open"
