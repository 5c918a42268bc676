"""Native payloads: Zendesk (signed), Jira issue webhooks, CRM contact changes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from accounts.models import Contact, ContactTitleChange, PeopleChange, Ticket
from csrisk import clock
from ctas.models import Cta
from signals.models import OrgAlias, Signal
from tests.conftest import api
from tests.factories import AccountFactory, ContactFactory
from tests.signals.conftest import committing
from tests.signals.helpers import (
    dumps,
    jira_issue,
    zendesk_api_ticket,
    zendesk_event,
    zendesk_headers,
)

SECRET = "dGhpcyBpcyBhIHNhbXBsZSBzZWNyZXQ="
NOW = dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)


@pytest.fixture
def anonymous(db, django_capture_on_commit_callbacks):
    return committing(api(), django_capture_on_commit_callbacks)


@pytest.fixture
def zendesk_account(org):
    return AccountFactory(owner=org.csm_a, helpdesk_org_id="8447346622462", crm_id="Z-1")


def send_zendesk(client, payload, *, timestamp="2026-10-08T11:00:00Z", secret=SECRET, **extra):
    body = dumps(payload)
    headers = zendesk_headers(secret, body, timestamp)
    return client.post(
        "/api/v1/webhooks/zendesk/", data=body, content_type="application/json", **headers, **extra
    )


@override_settings(ZENDESK_WEBHOOK_SECRET=SECRET)
def test_it_takes_a_signed_zendesk_ticket_event(anonymous, zendesk_account):
    with clock.frozen(NOW):
        response = send_zendesk(anonymous, zendesk_event())
    assert response.status_code == 202, response.json()
    assert response.json()["results"][0]["status"] == "accepted"
    t = Ticket.objects.get(source="zendesk", external_id="5158")
    assert (t.account, t.priority, t.status, t.tags) == (
        zendesk_account, "low", "open", ["exports", "latency"],
    )  # fmt: skip


@override_settings(ZENDESK_WEBHOOK_SECRET=SECRET)
def test_it_refuses_a_bad_signature_and_a_stale_timestamp(anonymous, zendesk_account):
    with clock.frozen(NOW):
        bad = send_zendesk(anonymous, zendesk_event(), secret="wrong")
        stale = send_zendesk(anonymous, zendesk_event(), timestamp="2026-10-08T09:00:00Z")
        unsigned = anonymous.post(
            "/api/v1/webhooks/zendesk/",
            data=dumps(zendesk_event()),
            content_type="application/json",
        )
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid Zendesk webhook signature."})
    assert stale.status_code == 401
    assert "Stale webhook" in stale.json()["detail"]
    assert unsigned.status_code == 401
    assert not Signal.objects.exists()


@override_settings(ZENDESK_WEBHOOK_SECRET=SECRET)
def test_it_answers_a_duplicate_and_parks_an_unknown_organisation(anonymous, zendesk_account):
    with clock.frozen(NOW):
        send_zendesk(anonymous, zendesk_event())
        dup = send_zendesk(anonymous, zendesk_event())
        unknown = send_zendesk(anonymous, zendesk_event("5159", org="999000111"))
    assert dup.status_code == 202
    assert dup.json()["results"][0]["status"] == "duplicate"
    assert unknown.status_code == 202
    assert unknown.json()["results"][0]["unmatched"] is True
    assert Signal.objects.get(external_id="5159").org_ref == "999000111"


def test_it_needs_a_token_without_a_secret_and_takes_the_ticket_api_object(org, client, anonymous):
    account = AccountFactory(owner=org.csm_a, helpdesk_org_id="509974")
    body = dumps(zendesk_api_ticket())
    url = "/api/v1/webhooks/zendesk/"
    assert anonymous.post(url, data=body, content_type="application/json").status_code == 401
    response = client.post(url, data=body, content_type="application/json")
    assert response.status_code == 202, response.json()
    t = Ticket.objects.get(external_id="35436")
    assert (t.account, t.kind, t.priority, t.status) == (account, "defect", "urgent", "solved")


def test_it_refuses_a_payload_that_is_not_a_zendesk_ticket(client):
    response = client.post(
        "/api/v1/webhooks/zendesk/", data=b'{"hello": 1}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "not a Zendesk ticket payload" in response.json()["detail"]


def test_it_maps_jira_issues_by_custom_field_or_by_a_matched_project(org, client):
    account = AccountFactory(owner=org.csm_a, crm_id="ACME-001")
    url = "/api/v1/webhooks/jira/"
    with override_settings(JIRA_ACCOUNT_FIELD="customfield_10050"):
        r = client.post(
            url, data=dumps(jira_issue(customer="ACME-001")), content_type="application/json"
        )
    assert r.status_code == 202, r.json()
    t = Ticket.objects.get(source="jira", external_id="ENG-42")
    assert (t.account, t.kind, t.priority, t.status) == (account, "defect", "high", "open")
    assert t.tags == ["export", "Reporting".lower()]

    r = client.post(url, data=dumps(jira_issue("OPS-7")), content_type="application/json")
    assert r.json()["results"][0]["unmatched"] is True
    assert Signal.objects.get(external_id="OPS-7").org_ref == "project:OPS"
    from signals.services import org_match

    org_match(source="jira", org_ref="project:OPS", account=account, by=org.vp)
    assert OrgAlias.objects.get().account == account
    r = client.post(url, data=dumps(jira_issue("OPS-8")), content_type="application/json")
    assert "unmatched" not in r.json()["results"][0]


def test_it_refuses_other_jira_events(client):
    body = dumps({**jira_issue(), "webhookEvent": "jira:issue_deleted"})
    r = client.post("/api/v1/webhooks/jira/", data=body, content_type="application/json")
    assert r.status_code == 400
    assert "unsupported Jira webhookEvent" in r.json()["detail"]


def test_it_records_a_title_downgrade_from_a_crm_change_event(org, client):
    account = AccountFactory(owner=org.csm_a, crm_id="0015g00000XyZ12AAB")
    contact = ContactFactory(
        account=account, crm_id="0035g00000AbCdEAAZ", title="Head of Operations", roles=["champion"]
    )
    event = {
        "schema": "IeRuaY6cbI_HsV8Rv1Mc5g",
        "data": {
            "payload": {
                "ChangeEventHeader": {
                    "entityName": "Contact",
                    "recordIds": ["0035g00000AbCdEAAZ"],
                    "changeType": "UPDATE",
                    "changeOrigin": "com/salesforce/api/soap/58.0",
                    "transactionKey": "0002343d-9d90-e395-ed20-cf416ba652ad",
                    "commitTimestamp": 1790000000000,
                    "commitUser": "0055g00000Abc",
                    "changedFields": ["Title", "LastModifiedDate"],
                },
                "Title": "Senior Manager, Operations",
                "AccountId": "0015g00000XyZ12AAB",
                "LastModifiedDate": "2026-09-21T14:13:20.000Z",
            },
            "event": {"replayId": 18120},
        },
        "channel": "/data/ContactChangeEvent",
    }
    r = client.post("/api/v1/webhooks/crm/", data=dumps(event), content_type="application/json")
    assert r.status_code == 202, r.json()
    contact.refresh_from_db()
    assert contact.title == "Senior Manager, Operations"
    change = ContactTitleChange.objects.get()
    assert (change.old_title, change.new_title) == (
        "Head of Operations",
        "Senior Manager, Operations",
    )
    assert PeopleChange.objects.get().change == "title_changed"
    assert Cta.objects.get().reason.startswith("Key contact downgraded")


def test_it_opens_one_company_risk_cta_when_an_edm_bounces(org, client):
    account = AccountFactory(owner=org.csm_a, crm_id="0015g00000XyZ12AAB")
    ContactFactory(account=account, crm_id="0035g00000EDM", name="Dana Boss", roles=["edm"])
    record = {
        "attributes": {
            "type": "Contact",
            "url": "/services/data/v58.0/sobjects/Contact/0035g00000EDM",
        },
        "Id": "0035g00000EDM",
        "AccountId": "0015g00000XyZ12AAB",
        "FirstName": "Dana",
        "LastName": "Boss",
        "Name": "Dana Boss",
        "Email": "dana@customer.example",
        "Title": "CFO",
        "EmailBouncedReason": "550 5.1.1 The email account does not exist",
        "EmailBouncedDate": "2026-10-01T08:00:00.000+0000",
        "LastModifiedDate": "2026-10-01T08:00:00.000+0000",
    }
    for _ in range(2):
        r = client.post(
            "/api/v1/webhooks/crm/", data=dumps(record), content_type="application/json"
        )
        assert r.status_code == 202, r.json()
    assert Contact.objects.get(crm_id="0035g00000EDM").at_company is False
    cta = Cta.objects.get()  # once, however often the record arrives
    assert (cta.area, cta.priority, cta.source) == ("company", "urgent", "rule")
    assert cta.reason == "Executive decision maker left: Dana Boss"
    assert "level 2" in cta.description


# --- replay windows and the CRM signature ----------------------------------------------------

JIRA_SECRET = "jira-secret"
CRM_SECRET = "crm-secret"


def send_jira(client, payload, *, secret=JIRA_SECRET):
    import hashlib
    import hmac

    body = dumps(payload)
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return client.post(
        "/api/v1/webhooks/jira/",
        data=body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE=signature,
    )


@override_settings(JIRA_WEBHOOK_SECRET=JIRA_SECRET)
def test_it_refuses_a_signed_jira_webhook_replayed_after_the_window(anonymous, org):
    AccountFactory(owner=org.csm_a, crm_id="ACME-001")
    sent = dt.datetime(2026, 10, 2, 9, 0, tzinfo=dt.UTC)
    payload = {**jira_issue(), "timestamp": int(sent.timestamp() * 1000)}
    with clock.frozen(sent + dt.timedelta(seconds=30)):
        fresh = send_jira(anonymous, payload)
    with clock.frozen(sent + dt.timedelta(hours=2)):
        replayed = send_jira(anonymous, {**payload, "issue": {**payload["issue"], "key": "ENG-9"}})
        undated = send_jira(anonymous, {k: v for k, v in payload.items() if k != "timestamp"})
        forged = send_jira(anonymous, payload, secret="wrong")
    assert fresh.status_code == 202, fresh.json()
    assert replayed.status_code == 401
    assert "Stale webhook" in replayed.json()["detail"]
    assert undated.status_code == 401
    assert "timestamp" in undated.json()["detail"]
    assert forged.status_code == 401
    assert list(Signal.objects.values_list("external_id", flat=True)) == ["ENG-42"]


def crm_record() -> dict:
    return {
        "attributes": {"type": "Contact"},
        "Id": "0035g00000EDM",
        "AccountId": "0015g00000XyZ12AAB",
        "Name": "Dana Boss",
        "Title": "CFO",
        "Left__c": True,
        "LastModifiedDate": "2026-10-01T08:00:00.000+0000",
    }


def send_crm(client, payload, *, timestamp="2026-10-08T11:00:00Z", secret=CRM_SECRET, **extra):
    body = dumps(payload)
    headers = zendesk_headers(secret, body, timestamp)  # the same scheme, its own headers
    return client.post(
        "/api/v1/webhooks/crm/",
        data=body,
        content_type="application/json",
        HTTP_X_CRM_SIGNATURE=headers["HTTP_X_ZENDESK_WEBHOOK_SIGNATURE"],
        HTTP_X_CRM_SIGNATURE_TIMESTAMP=timestamp,
        **extra,
    )


@override_settings(CRM_WEBHOOK_SECRET=CRM_SECRET)
def test_it_takes_a_signed_crm_webhook_and_refuses_unsigned_forged_or_stale(anonymous, org):
    AccountFactory(owner=org.csm_a, crm_id="0015g00000XyZ12AAB")
    with clock.frozen(NOW):
        signed = send_crm(anonymous, crm_record())
        forged = send_crm(anonymous, crm_record(), secret="wrong")
        stale = send_crm(anonymous, crm_record(), timestamp="2026-10-08T09:00:00Z")
        unsigned = anonymous.post(
            "/api/v1/webhooks/crm/", data=dumps(crm_record()), content_type="application/json"
        )
    assert signed.status_code == 202, signed.json()
    assert (forged.status_code, forged.json()) == (
        401, {"detail": "Invalid CRM webhook signature."}
    )  # fmt: skip
    assert stale.status_code == 401
    assert "Stale webhook" in stale.json()["detail"]
    assert unsigned.status_code == 401
    assert "X-CRM-Signature" in unsigned.json()["detail"]
    assert Signal.objects.count() == 1


def test_it_refuses_an_unsigned_crm_webhook_without_a_token(anonymous, org):
    r = anonymous.post(
        "/api/v1/webhooks/crm/", data=dumps(crm_record()), content_type="application/json"
    )
    assert r.status_code == 401
