"""HubSpot webhooks (API v3): signature, batches, people changes, unknown companies."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from django.test import override_settings

from accounts.models import Contact, ContactTitleChange, PeopleChange
from csrisk import clock
from signals.models import HubSpotAssociation, IngestRejection, Signal
from tests.conftest import api
from tests.factories import AccountFactory, ContactFactory
from tests.signals.conftest import committing
from tests.signals.helpers import dumps

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URL = "/api/v1/webhooks/hubspot/"
URI = "http://testserver/api/v1/webhooks/hubspot/"
NOW = dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)
NOW_MS = int(NOW.timestamp() * 1000)
MS = NOW_MS - 60_000  # the events happened a minute before they were sent


def signature(body: bytes, timestamp: str, *, secret: str = SECRET, uri: str = URI) -> str:
    """HubSpot's v3 signature, as its docs describe it."""
    message = b"POST" + uri.encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def event(n: int, kind: str, object_id: int = 123, **fields: Any) -> dict[str, Any]:
    """An event as HubSpot documents it (Webhooks API, "Webhook payloads")."""
    return {
        "eventId": n,
        "subscriptionId": 12345,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": MS + n,
        "subscriptionType": kind,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM",
        **fields,
    }


def title(n: int, contact: int, value: str) -> dict[str, Any]:
    return event(n, "contact.propertyChange", contact, propertyName="jobtitle", propertyValue=value)


def association(
    n: int, contact: int, company: int, *, removed: bool = False, side: str = "contact"
):
    """One side of an association change; HubSpot sends both sides with the time of the
    change (the same occurredAt) and their own eventIds."""
    if side == "company":
        return {**association(n, contact, company, removed=removed), "eventId": n + 100,
                "subscriptionType": "company.associationChange", "objectId": company,
                "associationType": "COMPANY_TO_CONTACT", "fromObjectId": company,
                "toObjectId": contact}  # fmt: skip
    if side == "contact":
        return event(
            n, "contact.associationChange", contact,
            associationType="CONTACT_TO_COMPANY", fromObjectId=contact, toObjectId=company,
            associationRemoved=removed, isPrimaryAssociation=True,
        )  # fmt: skip
    return event(
        n, "company.associationChange", company,
        associationType="COMPANY_TO_CONTACT", fromObjectId=company, toObjectId=contact,
        associationRemoved=removed, isPrimaryAssociation=True,
    )  # fmt: skip


def send(client, payload: Any, *, timestamp: int = NOW_MS, secret: str = SECRET, raw=None):
    body = raw if raw is not None else dumps(payload)
    stamp = str(timestamp)
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        HTTP_X_HUBSPOT_SIGNATURE_V3=signature(body, stamp, secret=secret),
        HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=stamp,
    )


@pytest.fixture
def anonymous(db, django_capture_on_commit_callbacks):
    return committing(api(), django_capture_on_commit_callbacks)


@pytest.fixture
def acme(org):
    return AccountFactory(owner=org.csm_a, hubspot_company_id="9001", crm_id="ACME-1")


pytestmark = pytest.mark.usefixtures("settings_hubspot")


@pytest.fixture
def settings_hubspot():
    with override_settings(HUBSPOT_CLIENT_SECRET=SECRET):
        yield


def test_it_checks_the_v3_signature_good_bad_stale_missing(anonymous, acme):
    payload = [association(1, 123, 9001)]
    with clock.frozen(NOW):
        bad = send(anonymous, payload, secret="wrong")
        stale = send(anonymous, payload, timestamp=NOW_MS - 6 * 60_000)
        missing = anonymous.post(URL, data=dumps(payload), content_type="application/json")
        good = send(anonymous, payload)
    assert bad.status_code == 401
    assert bad.json()["detail"].startswith("Invalid HubSpot signature (v3, computed over POST")
    assert stale.status_code == 401
    assert stale.json()["detail"] == "Stale webhook: signed 360 s ago; replays are refused."
    assert (missing.status_code, missing.json()["detail"]) == (
        401, "Missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp.",
    )  # fmt: skip
    assert good.status_code == 202, good.json()
    assert good.json()["sender"] == "webhook hubspot with verified signature"
    assert Signal.objects.filter(source="hubspot").count() == 1


def test_it_signs_over_the_public_url_when_configured(anonymous, acme):
    body = dumps([association(1, 123, 9001)])
    stamp = str(NOW_MS)
    public = "https://csrisk.example.com/api/v1/webhooks/hubspot/"
    with clock.frozen(NOW), override_settings(HUBSPOT_WEBHOOK_URL=public):
        ok = anonymous.post(
            URL, data=body, content_type="application/json",
            HTTP_X_HUBSPOT_SIGNATURE_V3=signature(body, stamp, uri=public),
            HTTP_X_HUBSPOT_REQUEST_TIMESTAMP=stamp,
        )  # fmt: skip
    assert ok.status_code == 202, ok.json()


def test_it_turns_a_batch_into_joins_title_changes_and_leaves(anonymous, acme):
    dana = ContactFactory(account=acme, name="Dana", title="Head of Data", crm_id="123")
    batch = [
        association(1, 456, 9001),  # Sam joins ACME (seen from both sides: one change)
        association(1, 456, 9001, side="company"),
        title(3, 123, "Senior Manager"),  # Dana is demoted
        event(4, "contact.propertyChange", 123, propertyName="phone", propertyValue="555"),
        association(5, 789, 9001, removed=True),  # someone leaves
    ]
    with clock.frozen(NOW):
        response = send(anonymous, batch)
    body = response.json()
    assert response.status_code == 202, body
    # the second side of the join is the same change: a duplicate
    assert (body["accepted"], body["duplicates"], body["ignored"]) == (3, 1, 1)
    changes = {
        (c.change, c.contact.crm_id if c.contact else None) for c in PeopleChange.objects.all()
    }
    assert changes == {("joined", "456"), ("title_changed", "123"), ("left", None)}
    # The two sides of one association change are one people change.
    assert PeopleChange.objects.filter(change="joined").count() == 1
    dana.refresh_from_db()
    assert dana.title == "Senior Manager"
    assert ContactTitleChange.objects.get(contact=dana).old_title == "Head of Data"
    assert set(PeopleChange.objects.values_list("account", flat=True)) == {acme.pk}


def test_a_title_change_finds_the_company_through_a_stored_association(anonymous, acme):
    with clock.frozen(NOW):
        send(anonymous, [association(1, 321, 9001)])
        first = send(anonymous, [title(2, 321, "Head of Ops")])  # first sighting: the title
        second = send(anonymous, [title(3, 321, "Ops Manager")])
    assert first.status_code == second.status_code == 202
    contact = Contact.objects.get(crm_id="321")
    assert (contact.account, contact.title) == (acme, "Ops Manager")
    change = PeopleChange.objects.get(change="title_changed")
    assert (change.old_title, change.new_title) == ("Head of Ops", "Ops Manager")


def test_a_deletion_is_a_person_leaving(anonymous, acme):
    dana = ContactFactory(account=acme, name="Dana", crm_id="123")
    with clock.frozen(NOW):
        response = send(anonymous, [event(1, "contact.deletion", 123)])
    assert response.status_code == 202, response.json()
    dana.refresh_from_db()
    assert dana.at_company is False
    assert PeopleChange.objects.get().change == "left"


def test_an_unknown_company_is_parked_and_released_when_known(anonymous, org):
    with clock.frozen(NOW):
        response = send(anonymous, [association(1, 555, 7777)])
    assert response.json()["unmatched"] == 1
    parked = Signal.objects.get(source="hubspot")
    assert (parked.status, parked.org_ref) == ("unmatched", "hubspot:7777")
    account = AccountFactory(owner=org.csm_a, hubspot_company_id="7777")
    from signals.services import rematch_unmatched

    assert rematch_unmatched(account) == 1
    assert Signal.objects.get(source="hubspot").account == account


def test_a_contact_with_no_known_company_waits_for_its_association(anonymous, acme):
    with clock.frozen(NOW):
        send(anonymous, [title(1, 999, "VP Sales")])
        parked = Signal.objects.get(source="hubspot")
        assert (parked.status, parked.org_ref) == ("unmatched", "hubspot-contact:999")
        send(anonymous, [association(2, 999, 9001)])
    released = Signal.objects.get(pk=parked.pk)
    assert (released.status, released.account) == ("processed", acme)


def test_a_replayed_batch_changes_nothing(anonymous, acme):
    batch = [association(1, 456, 9001), title(2, 456, "CTO")]
    with clock.frozen(NOW):
        send(anonymous, batch)
        again = send(anonymous, batch)
    assert again.status_code == 202
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)
    assert PeopleChange.objects.count() == 1
    assert HubSpotAssociation.objects.count() == 1


def test_an_older_association_event_does_not_undo_a_newer_one(anonymous, acme):
    with clock.frozen(NOW):
        send(anonymous, [association(5, 456, 9001, removed=True)])
        send(anonymous, [association(1, 456, 9001)])  # a late retry of the earlier add
    assert HubSpotAssociation.objects.get().removed is True


def test_malformed_json_and_bad_events_are_400s_with_a_reason(anonymous, acme):
    with clock.frozen(NOW):
        broken = send(anonymous, None, raw=b'[{"eventId": 1,')
        not_a_list = send(anonymous, "hello")
        bad_event = send(anonymous, [{"eventId": "x", "occurredAt": MS,
                                      "subscriptionType": "contact.deletion"}])  # fmt: skip
        mixed = send(anonymous, [{"eventId": 7}, association(1, 456, 9001)])
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    assert not_a_list.status_code == 400
    assert not_a_list.json()["detail"] == "a HubSpot webhook body is a JSON array of events"
    assert bad_event.status_code == 400
    assert "eventId must be a HubSpot id" in bad_event.json()["results"][0]["reason"]
    assert mixed.status_code == 202
    assert [r["status"] for r in mixed.json()["results"]] == ["rejected", "accepted"]
    assert IngestRejection.objects.filter(source="hubspot").exists()


def test_without_a_secret_only_an_integration_token_may_send(org, db):
    with override_settings(HUBSPOT_CLIENT_SECRET=""), clock.frozen(NOW):
        anonymous = api().post(URL, data=dumps([]), content_type="application/json")
        person = api(org.csm_a).post(URL, data=dumps([]), content_type="application/json")
        integration = api(org.integration, token=True).post(
            URL, data=dumps([association(1, 1, 2)]), content_type="application/json"
        )
    assert anonymous.status_code == 401
    assert person.status_code == 403
    assert integration.status_code == 202


def test_an_id_too_long_to_be_hubspots_is_rejected_alone(anonymous, acme):
    with clock.frozen(NOW):
        response = send(anonymous, [association(1, 10**40, 9001), association(2, 456, 9001)])
    assert response.status_code == 202
    results = response.json()["results"]
    assert "must be a HubSpot id (a number of at most 30 digits)" in results[0]["reason"]
    assert results[1]["status"] == "accepted"


def test_a_batch_of_events_csrisk_does_not_read_is_a_200_not_a_retry(anonymous, acme):
    batch = [
        event(1, "deal.propertyChange", 42, propertyName="amount", propertyValue="1000"),
        event(2, "contact.propertyChange", 123, propertyName="phone", propertyValue="555"),
    ]
    with clock.frozen(NOW):
        response = send(anonymous, batch)
    assert response.status_code == 200
    assert (response.json()["accepted"], response.json()["ignored"]) == (0, 2)
    assert not Signal.objects.exists()


def prop(n: int, contact: int, name: str, value: str) -> dict[str, Any]:
    return event(n, "contact.propertyChange", contact, propertyName=name, propertyValue=value)


def test_a_contact_without_a_name_keeps_the_placeholder(anonymous, acme):
    with clock.frozen(NOW):
        send(anonymous, [association(1, 456, 9001)])
    assert Contact.objects.get(crm_id="456").name == "HubSpot contact 456"


def test_a_batch_that_names_a_new_contact_creates_it_with_the_name(anonymous, acme):
    batch = [
        association(1, 456, 9001),
        prop(2, 456, "firstname", "Sam"),
        prop(3, 456, "lastname", "Rivera"),
        prop(4, 456, "email", "sam@acme.example"),
    ]
    with clock.frozen(NOW):
        response = send(anonymous, batch)
    assert response.json()["ignored"] == 0  # the name events are read
    contact = Contact.objects.get(crm_id="456")
    assert (contact.name, contact.email) == ("Sam Rivera", "sam@acme.example")


def test_a_later_event_names_a_placeholder_contact_and_is_audited(anonymous, acme):
    from csrisk.models import AuditEntry

    with clock.frozen(NOW):
        send(anonymous, [association(1, 456, 9001)])
        send(anonymous, [prop(2, 456, "email", "sam@acme.example")])
        assert Contact.objects.get(crm_id="456").name == "sam@acme.example"
        send(anonymous, [prop(3, 456, "firstname", "Sam")])
        send(anonymous, [prop(4, 456, "lastname", "Rivera")])
        send(anonymous, [prop(5, 456, "email", "not an address")])  # left out
    contact = Contact.objects.get(crm_id="456")
    assert (contact.name, contact.email) == ("Sam Rivera", "sam@acme.example")
    entry = AuditEntry.objects.filter(action="contact.updated").last()
    assert entry.actor is None and entry.reason == "named by hubspot"


def test_a_last_name_change_keeps_a_real_first_name(anonymous, acme):
    ContactFactory(account=acme, name="Dana Lee", crm_id="123")
    with clock.frozen(NOW):
        send(anonymous, [prop(1, 123, "lastname", "Park")])
    assert Contact.objects.get(crm_id="123").name == "Dana Park"
