"""Ingestion input validation: one bad item never costs the good ones, on SQLite and on
PostgreSQL; malformed bodies and native payloads of the wrong types are a 4xx with a
reason, never a 500; nothing acceptable ends ``failed`` in processing."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import override_settings

from accounts.models import Contact, PeopleChange, Ticket
from signals.models import IdempotencyRecord, IngestRejection, Signal
from tests.factories import AccountFactory
from tests.signals.helpers import jira_issue, ticket, zendesk_api_ticket, zendesk_event

URL = "/api/v1/signals/"
on_postgresql = pytest.mark.skipif(
    not settings.DATABASE_URL.startswith(("postgres", "pgsql")),
    reason="the COPY path and its per-item fallback exist on PostgreSQL only",
)


def raw_post(client, url, body: bytes | str, **extra):
    return client.post(url, data=body, content_type="application/json", **extra)


def post(client, payload, url=URL, **extra):
    # ensure_ascii keeps a lone surrogate as its \\udc00 escape, as a sender writes it.
    return raw_post(client, url, json.dumps(payload), **extra)


BAD_TEXT = [
    ("a lone surrogate in the subject", {"subject": "ok\udc00"}, "attributes.subject"),
    ("a lone high surrogate in a tag", {"tags": ["ok", "x\ud800y"]}, "attributes.tags"),
    ("a NUL in a tag", {"tags": ["a\x00b"]}, "attributes.tags"),
    ("a NUL in the subject", {"subject": "a\x00b"}, "attributes.subject"),
    ("a lone surrogate in requester_group", {"requester_group": "\udfff"}, "requester_group"),
]


@pytest.mark.parametrize(("what", "attrs", "field"), BAD_TEXT, ids=[b[0] for b in BAD_TEXT])
def test_it_rejects_only_the_item_with_text_postgresql_cannot_store(
    client, account_a, what, attrs, field
):
    items = [ticket(f"T-{i}") for i in range(99)]
    items.insert(50, ticket("T-bad", **attrs))
    response = post(client, items)
    assert response.status_code == 202, response.content[:300]
    body = response.json()
    assert (body["accepted"], body["rejected"]) == (99, 1)
    bad = body["results"][50]
    assert (bad["status"], bad["external_id"]) == ("rejected", "T-bad")
    assert field in bad["reason"]
    assert Signal.objects.count() == 99
    assert set(Signal.objects.values_list("status", flat=True)) == {"processed"}
    assert Ticket.objects.count() == 99


BAD_HEADS = [
    ("external_id", {"external_id": "T-\udc00"}),
    ("external_id", {"external_id": "T-\x00"}),
    ("source", {"source": "help\ud800desk"}),
    ("account.external_id", {"account": {"external_id": "A-\udc00"}}),
]


@pytest.mark.parametrize(("field", "change"), BAD_HEADS, ids=[repr(b[1]) for b in BAD_HEADS])
def test_it_rejects_a_key_it_cannot_store_and_still_answers_in_json(
    client, account_a, field, change
):
    response = post(client, [ticket("T-1"), {**ticket("T-2"), **change}], HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 202, response.content[:300]
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected"]
    assert field in results[1]["reason"]
    assert Signal.objects.get().external_id == "T-1"
    # The answer (echoing the sender's id) and the health counters are stored too.
    assert IdempotencyRecord.objects.get(key="k1").status_code == 202
    assert IngestRejection.objects.get().count == 1


def test_it_rejects_a_single_bad_signal_with_a_400_and_a_reason(client, account_a):
    response = post(client, ticket("T-\udc00", subject="x\udc00"))
    assert response.status_code == 400
    assert "lone surrogate" in response.json()["detail"]
    assert not Signal.objects.exists()


def test_it_accepts_surrogate_pairs_and_other_unicode(client, account_a):
    response = post(client, ticket("T-ü", subject="Exports 🚀 naïve", tags=["über", "🔥"]))
    assert response.status_code == 202, response.json()
    assert Ticket.objects.get().subject == "Exports 🚀 naïve"


def test_it_ignores_unread_attributes_whatever_their_text(client, account_a):
    # Keys and values csrisk does not read are not stored, so they cannot sink the item.
    item = ticket("T-1")
    item["attributes"]["x\udc00"] = {"nested\x00": ["\ud800"]}
    response = post(client, [item, ticket("T-2")])
    assert response.status_code == 202
    assert response.json()["accepted"] == 2


@on_postgresql
def test_it_turns_a_database_error_of_one_item_into_its_rejection(client, account_a, monkeypatch):
    """Fault injection: were a value the checks let through refused by PostgreSQL, only its
    item is rejected (the batch is stored again item by item)."""
    from signals import normalise

    monkeypatch.setattr(normalise, "storable_text", lambda value: True)
    monkeypatch.setattr(normalise, "storable_payload", lambda payload: "")
    items = [ticket(f"T-{i}") for i in range(20)]
    items[7] = ticket("T-7", subject="ok\udc00")
    response = post(client, items)
    assert response.status_code == 202, response.content[:300]
    results = response.json()["results"]
    assert results[7]["status"] == "rejected"
    assert "the database refused this signal" in results[7]["reason"]
    assert Signal.objects.count() == 19
    # A later version that PostgreSQL refuses leaves the stored version alone.
    again = post(client, [ticket("T-1", subject="new\udc00"), ticket("T-2", subject="v2")])
    assert [r["status"] for r in again.json()["results"]] == ["rejected", "accepted"]
    assert Signal.objects.get(external_id="T-2").version == 2


# --- processing: nothing acceptable ends ``failed`` ------------------------------------------


def test_it_processes_every_acceptable_item_without_a_failure(client, org):
    account = AccountFactory(owner=org.csm_a, crm_id="A-1")
    long_id = "T-" + "9" * 190  # 192 characters: the signal store takes up to 200
    people = {
        "source": "crm",
        "external_id": "c-" + "8" * 190,
        "kind": "org_change",
        "account": {"external_id": "A-1"},
        "occurred_at": "2026-10-01T09:30:00Z",
        # No name: the contact is named by its address, 230 characters long.
        "attributes": {"change": "left", "contact": {"email": "a" * 218 + "@example.com"}},
    }
    response = post(client, [ticket(long_id), people])
    assert response.status_code == 202, response.json()
    assert response.json()["accepted"] == 2
    assert list(Signal.objects.values_list("status", "error")) == [("processed", "")] * 2
    assert Ticket.objects.get().external_id == long_id
    assert PeopleChange.objects.get().external_id == people["external_id"]
    assert Contact.objects.get(account=account).email == people["attributes"]["contact"]["email"]


# --- malformed bodies ------------------------------------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000
HUGE_INT = '{"n": ' + "9" * 5000 + "}"


@pytest.mark.parametrize("body", [DEEP, HUGE_INT], ids=["deep", "huge-int"])
@pytest.mark.parametrize(
    "url", [URL, "/api/v1/webhooks/zendesk/", "/api/v1/webhooks/jira/", "/api/v1/webhooks/crm/"]
)
def test_it_answers_400_to_a_body_it_will_not_parse_on_ingestion(client, url, body):
    response = raw_post(client, url, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert "nested more than" in detail or "more than 4300 digits" in detail


@pytest.mark.parametrize("body", [DEEP, HUGE_INT], ids=["deep", "huge-int"])
@pytest.mark.parametrize("url", ["/api/v1/accounts/", "/api/v1/ctas/"])
def test_it_answers_400_to_a_body_it_will_not_parse_on_other_endpoints(org, url, body):
    from tests.conftest import api

    response = raw_post(api(org.vp), url, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    detail = response.json()["detail"]
    assert "nested more than" in detail or "more than 4300 digits" in detail


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
@pytest.mark.parametrize("url", ["/api/v1/accounts/", "/api/v1/ctas/"])
def test_it_answers_413_in_json_to_an_oversized_body(org, url):
    from tests.conftest import api

    response = raw_post(api(org.vp), url, json.dumps({"name": "x" * 5000}))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert "1000 bytes" in response.json()["detail"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_it_answers_a_page_with_an_oversized_form_without_a_500(org):
    from tests.conftest import login

    response = login(org.vp).post("/login/", {"username": "x" * 5000})
    assert response.status_code in (400, 405, 413)


# --- native payloads of the wrong types ------------------------------------------------------


def zendesk_with(**detail):
    event = zendesk_event()
    event["detail"].update(detail)
    return event


WRONG_NATIVE = [
    ("zendesk", zendesk_with(subject=5), "subject"),
    ("zendesk", zendesk_with(subject={}), "subject"),
    ("zendesk", zendesk_with(tags=5), "tags"),
    ("zendesk", zendesk_with(tags=[{}]), "tags"),
    ("zendesk", zendesk_with(status=["open"]), "status"),
    ("zendesk", zendesk_with(priority={"x": 1}), "priority"),
    ("zendesk", zendesk_with(organization_id={"id": 1}), "organization_id"),
    ("zendesk", zendesk_with(id=[1]), "id"),
    ("zendesk", zendesk_with(created_at=[]), "created_at"),
    ("jira", {**jira_issue(), "issue": {"key": "ENG-1", "fields": [1]}}, "fields"),
    ("jira", {**jira_issue(), "issue": {"key": 5, "fields": {}}}, "issue.key"),
]


def jira_with(**fields):
    payload = jira_issue()
    payload["issue"]["fields"].update(fields)
    return payload


WRONG_NATIVE += [
    ("jira", jira_with(priority="High"), "priority"),
    ("jira", jira_with(status="Done"), "status"),
    ("jira", jira_with(status={"statusCategory": "done"}), "status"),
    ("jira", jira_with(labels="x"), "labels"),
    ("jira", jira_with(components=[1]), "components"),
    ("jira", jira_with(components={"name": 1}), "components"),
    ("jira", jira_with(project="ENG"), "project"),
    ("jira", jira_with(summary=["x"]), "summary"),
    ("crm", {"Id": "003", "AccountId": {"x": 1}, "Title": "CFO", "LastModifiedDate": 5}, ""),
    ("crm", {"Id": ["003"], "AccountId": "001", "Title": "CFO"}, "Id"),
    ("crm", {"Id": "003", "AccountId": "001", "Title": 5, "Left__c": True}, "Title"),
    ("crm", {"Id": "003", "AccountId": "001", "Name": {}, "Left__c": True}, "Name"),
    ("crm", {"attributes": [1], "Id": "003", "AccountId": "001", "Title": "CFO"}, "attributes"),
    ("crm", {"data": {"payload": {"ChangeEventHeader": []}}}, "ChangeEventHeader"),
    (
        "crm",
        {"payload": {"ChangeEventHeader": {"recordIds": "003", "entityName": "Contact"}}},
        "recordIds",
    ),
    (
        "crm",
        {"payload": {"ChangeEventHeader": {"recordIds": ["1"], "changedFields": 5}}},
        "changedFields",
    ),
]


@pytest.mark.parametrize(
    ("tool", "payload", "field"),
    WRONG_NATIVE,
    ids=[f"{w[0]}-{w[2]}-{i}" for i, w in enumerate(WRONG_NATIVE)],
)
def test_it_rejects_a_native_payload_of_the_wrong_types_with_a_reason(
    client, account_a, tool, payload, field
):
    response = post(client, payload, url=f"/api/v1/webhooks/{tool}/")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()["detail"]
    assert not Signal.objects.exists()


def test_it_rejects_one_bad_zendesk_ticket_of_a_list_and_stores_the_rest(client, org):
    AccountFactory(owner=org.csm_a, helpdesk_org_id="509974")
    good = zendesk_api_ticket()["ticket"]
    tickets = [
        {**good, "id": 1},
        {**good, "id": 2, "subject": {"text": "x"}},
        {**good, "id": 3, "tags": 5},
        {**good, "id": 4},
        "not a ticket",
    ]
    response = post(client, {"tickets": tickets}, url="/api/v1/webhooks/zendesk/")
    assert response.status_code == 202, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "accepted", "rejected"
    ]  # fmt: skip
    assert "subject" in results[1]["reason"]
    assert "tags" in results[2]["reason"]
    assert results[1]["external_id"] == "2"
    assert set(Ticket.objects.values_list("external_id", flat=True)) == {"1", "4"}


def test_it_rejects_one_bad_crm_record_of_a_list_and_stores_the_rest(client, org):
    AccountFactory(owner=org.csm_a, crm_id="001")
    record = {"Id": "003", "AccountId": "001", "Name": "Dana", "Title": "CFO"}
    records = [
        {**record, "LastModifiedDate": "2026-10-01T08:00:00Z"},
        {**record, "Id": "004", "Title": ["CFO"], "LastModifiedDate": "2026-10-01T08:00:00Z"},
        {**record, "Id": "005", "LastModifiedDate": "2026-10-01T08:00:00Z"},
    ]
    response = post(client, records, url="/api/v1/webhooks/crm/")
    assert response.status_code == 202, response.json()
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert "Title" in results[1]["reason"]
    assert Signal.objects.count() == 2
