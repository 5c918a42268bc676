"""One record of a people change: whichever way a change arrives (REST, the CRM webhook,
a CSV upload, the account-contact import, a person editing a contact), the company area's
measures see it, whether or not csrisk knew the contact before."""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.models import Contact, ContactTitleChange, PeopleChange
from accounts.services import contact_update
from csrisk import clock
from scorecards.models import AreaScore
from scorecards.services import recompute
from tests.conftest import login
from tests.factories import AccountFactory, ContactFactory
from tests.signals.conftest import committing
from tests.signals.helpers import dumps

NOW = dt.datetime(2026, 10, 8, 11, 0, tzinfo=dt.UTC)
DOWNGRADE = "company.title_downgrade"


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def account(org):
    return AccountFactory(owner=org.csm_a, crm_id="0015g00000XyZ12AAB")


def downgrade(account) -> dict:
    recompute([account.pk])
    reasons = AreaScore.objects.get(account=account, area="company").reasons
    return next(r for r in reasons if r.get("measure") == DOWNGRADE)


def rest_title_change(ext: str = "HR-77", **contact) -> dict:
    return {
        "source": "hris",
        "external_id": ext,
        "kind": "org_change",
        "account": {"external_id": "0015g00000XyZ12AAB"},
        "occurred_at": "2026-09-20T09:00:00Z",
        "attributes": {
            "change": "title_changed",
            "contact": {
                "email": "pat@customer.example",
                "name": "Pat Lee",
                "title": "Senior Manager, Operations",
                "roles": ["champion"],
                **contact,
            },
            "old_title": "Head of Operations",
            "new_title": "Senior Manager, Operations",
        },
    }


def test_it_sees_a_rest_title_downgrade_of_a_contact_it_did_not_know(account, client):
    r = client.post(
        "/api/v1/signals/", data=dumps(rest_title_change()), content_type="application/json"
    )
    assert r.status_code == 202, r.json()
    reason = downgrade(account)
    assert reason["color"] == "yellow", reason
    assert "“Head of Operations” → “Senior Manager, Operations”" in reason["sentence"]
    pat = Contact.objects.get(account=account, email="pat@customer.example")
    assert (pat.title, pat.roles, pat.at_company) == (
        "Senior Manager, Operations",
        ["champion"],
        True,
    )
    change = PeopleChange.objects.get(account=account)
    assert (change.contact, change.change, change.old_title) == (
        pat,
        "title_changed",
        "Head of Operations",
    )
    # the contact's title history is derived from the same record
    assert pat.title_changes.get().old_title == "Head of Operations"
    assert reason["refs"] == [{"type": "people_change", "id": change.pk}]


def test_it_records_a_resent_title_change_once(account, client):
    for _ in range(2):
        client.post(
            "/api/v1/signals/", data=dumps(rest_title_change()), content_type="application/json"
        )
    assert PeopleChange.objects.count() == 1 and ContactTitleChange.objects.count() == 1
    assert downgrade(account)["value"] == 1


def test_it_sees_a_title_downgrade_of_a_known_contact_by_rest(account, client):
    ContactFactory(
        account=account,
        name="Pat Lee",
        email="pat@customer.example",
        title="Head of Operations",
        roles=["champion"],
    )
    raw = rest_title_change()
    del raw["attributes"]["old_title"]  # the sender knows only the new title
    client.post("/api/v1/signals/", data=dumps(raw), content_type="application/json")
    assert downgrade(account)["color"] == "yellow"
    assert Contact.objects.filter(account=account).count() == 1


def test_it_sees_a_crm_webhook_title_downgrade_of_a_contact_first_seen_by_the_crm(account, client):
    record = {
        "attributes": {"type": "Contact"},
        "Id": "0035g00000PatLee",
        "AccountId": "0015g00000XyZ12AAB",
        "Name": "Pat Lee",
        "Email": "pat@customer.example",
        "Title": "Head of Operations",
        "Roles__c": "Champion",
        "LastModifiedDate": "2026-09-01T08:00:00.000+0000",
    }
    assert (
        client.post(
            "/api/v1/webhooks/crm/", data=dumps(record), content_type="application/json"
        ).status_code
        == 202
    )
    # a first sighting is no change of title
    assert not PeopleChange.objects.exists()
    assert downgrade(account)["color"] == "green"
    event = {
        "data": {
            "payload": {
                "ChangeEventHeader": {
                    "entityName": "Contact",
                    "recordIds": ["0035g00000PatLee"],
                    "changeType": "UPDATE",
                    "commitTimestamp": 1790000000000,
                    "changedFields": ["Title"],
                },
                "Title": "Senior Manager, Operations",
                "AccountId": "0015g00000XyZ12AAB",
            },
            "event": {"replayId": 18121},
        },
    }
    assert (
        client.post(
            "/api/v1/webhooks/crm/", data=dumps(event), content_type="application/json"
        ).status_code
        == 202
    )
    assert downgrade(account)["color"] == "yellow"
    assert PeopleChange.objects.get().old_title == "Head of Operations"


def test_it_sees_a_csv_title_downgrade_of_a_contact_it_did_not_know(
    org, account, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from signals.models import SignalImport

    client = committing(login(org.vp), django_capture_on_commit_callbacks)
    text = (
        "account,change,email,name,roles,old_title,new_title,date\n"
        "0015g00000XyZ12AAB,title_changed,pat@customer.example,Pat Lee,Champion,"
        'Head of Operations,"Senior Manager, Operations",2026-09-20\n'
    )
    client.post(
        "/signals/upload/",
        {"kind": "contact_changes", "file": SimpleUploadedFile("c.csv", text.encode())},
    )
    job = SignalImport.objects.get()
    assert job.status == "previewed", job.errors
    client.post(f"/signals/upload/{job.pk}/commit/")
    assert downgrade(account)["color"] == "yellow"


def test_it_sees_a_title_downgrade_a_person_types_in(org, account):
    pat = ContactFactory(account=account, title="Head of Operations", roles=["champion"])
    contact_update(contact=pat, by=org.csm_a, title="Senior Manager, Operations")
    assert downgrade(account)["color"] == "yellow"
    change = PeopleChange.objects.get()
    assert (change.contact, change.source, change.roles) == (pat, "manual", ["champion"])


def test_it_sees_a_title_downgrade_from_the_contact_import(
    org, account, django_capture_on_commit_callbacks
):
    from accounts.services import import_job_commit, import_job_create

    pat = ContactFactory(
        account=account,
        email="pat@customer.example",
        title="Head of Operations",
        roles=["champion"],
    )
    text = (
        "account_crm_id,name,email,title,roles\n"
        '0015g00000XyZ12AAB,Pat Lee,pat@customer.example,"Senior Manager, Operations",Champion\n'
    )
    job = import_job_create(by=org.vp, filename="c.csv", content=text.encode(), kind="contacts")
    assert job.status == "previewed", job.errors
    with django_capture_on_commit_callbacks(execute=True):
        import_job_commit(job=job, by=org.vp)
    pat.refresh_from_db()
    assert pat.title == "Senior Manager, Operations"
    assert downgrade(account)["color"] == "yellow"
    assert PeopleChange.objects.get().source == "import"


def test_it_brings_a_book_written_before_the_one_path_into_agreement(org, account):
    """The data migration: legacy rows of either table gain their counterpart, once."""
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    typed = ContactFactory(account=account, title="CFO", roles=["edm"])
    ContactTitleChange.objects.create(  # a person typed it in, before: no people change
        contact=typed, old_title="VP Finance", new_title="Finance Manager",
        changed_on=dt.date(2026, 9, 1), source="manual",
    )  # fmt: skip
    pushed = ContactFactory(account=account, title="Senior Manager, Operations")
    PeopleChange.objects.create(  # pushed over REST, before: no title history
        account=account, contact=pushed, change="title_changed", roles=["champion"],
        occurred_at=dt.datetime(2026, 9, 20, 9, tzinfo=dt.UTC), source="hris",
        external_id="HR-77", old_title="Head of Operations",
        new_title="Senior Manager, Operations",
    )  # fmt: skip
    migration = importlib.import_module("accounts.migrations.0005_people_changes_one_record")
    for _ in range(2):
        migration.backfill(apps, SimpleNamespace(connection=connection))
    assert PeopleChange.objects.count() == 2 and ContactTitleChange.objects.count() == 2
    legacy = PeopleChange.objects.get(contact=typed)
    assert (legacy.roles, legacy.old_title, legacy.source) == (["edm"], "VP Finance", "manual")
    assert pushed.title_changes.get().old_title == "Head of Operations"
    assert downgrade(account)["value"] == 2


def test_it_records_an_admin_title_edit_and_an_admin_people_change_the_one_way(org, account):
    client = login(org.admin)
    pat = ContactFactory(account=account, name="Pat Lee", title="Head of Operations",
                         roles=["champion"])  # fmt: skip
    form = {
        "account": account.pk, "name": "Pat Lee", "email": "", "title": "Operations Manager",
        "roles": '["champion"]', "at_company": "on",
        "title_changes-TOTAL_FORMS": "0", "title_changes-INITIAL_FORMS": "0",
    }  # fmt: skip
    r = client.post(f"/admin/accounts/contact/{pat.pk}/change/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    change = PeopleChange.objects.get(contact=pat)
    assert (change.old_title, change.new_title, change.source) == (
        "Head of Operations", "Operations Manager", "admin",
    )  # fmt: skip
    assert pat.title_changes.count() == 1
    r = client.post(
        "/admin/accounts/peoplechange/add/",
        {
            "account": account.pk, "contact": pat.pk, "change": "left",
            "occurred_at_0": "2026-10-01", "occurred_at_1": "09:00:00", "roles": "[]",
            "source": "manual",
        },
    )  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:2000]
    pat.refresh_from_db()
    assert (pat.at_company, pat.left_on) == (False, dt.date(2026, 10, 1))
    assert PeopleChange.objects.get(change="left").roles == ["champion"]
    assert client.get("/admin/accounts/contacttitlechange/add/").status_code == 403


def test_it_records_a_departure_from_the_contact_import(
    org, account, django_capture_on_commit_callbacks
):
    from accounts.services import import_job_commit, import_job_create

    ContactFactory(account=account, email="pat@customer.example", title="CFO", roles=["edm"])
    text = (
        "account_crm_id,name,email,title,roles,still at company\n"
        "0015g00000XyZ12AAB,Pat Lee,pat@customer.example,CFO,edm,no\n"
    )
    job = import_job_create(by=org.vp, filename="c.csv", content=text.encode(), kind="contacts")
    with django_capture_on_commit_callbacks(execute=True):
        import_job_commit(job=job, by=org.vp)
    left = PeopleChange.objects.get()
    assert (left.change, left.roles, left.source) == ("left", ["edm"], "import")
