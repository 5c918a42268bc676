"""Whole-file checks shared by every CSV import, and an import job that cannot get stuck.

The account import, the signal CSV upload and ``import_outcomes`` read files through the
same reader: every byte is decoded and scanned before the preview (not only the first
4 KB), control characters are reported per row, a repeated header is an error naming it,
and a commit that fails marks its job failed with the reason, all or nothing.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError
from django.test import Client

from accounts.models import Account, Contact, ImportJob
from tests.conftest import login

FILLER = b"".join(b"Acct %d,100\n" % i for i in range(400))  # past the first 4 KB


def upload(client: Client, content: bytes, **extra):
    return client.post(
        "/accounts/import/",
        {"file": SimpleUploadedFile("book.csv", content, "text/csv"), "encoding": "utf-8", **extra},
    )


def quiet(user) -> Client:
    client = login(user)
    client.raise_request_exception = False
    return client


def test_it_reports_a_nul_byte_late_in_the_file_on_its_row_and_never_imports_it(
    org, django_capture_on_commit_callbacks
):
    client = quiet(org.vp)
    response = upload(client, b"name,arr\n" + FILLER + b"Late\x00Nul,100\n")
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    [error] = job.errors
    assert (error["row"], error["column"]) == (402, "name")
    assert "control character" in error["reason"] and "NUL" in error["reason"]
    assert "\x00" not in error["value"]  # PostgreSQL's JSON refuses a NUL: shown escaped
    page = client.get(f"/accounts/import/{job.pk}/").content.decode()
    assert "Late\\x00Nul" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accounts/import/{job.pk}/commit/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "invalid"
    assert not Account.objects.exists()


def test_it_reports_other_control_characters_per_row(org):
    upload(login(org.vp), b"name,arr,industry\nGood,1,Tech\nEsc\x1bape,2,Bell\x07\n")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "industry"), (3, "name")]
    assert "U+001B" in " ".join(e["reason"] for e in job.errors)


def test_it_keeps_tabs_and_line_breaks_inside_quoted_cells(org):
    # The reader keeps them in a free-text cell; names and titles are one line (below).
    upload(login(org.vp), b'name,arr,industry\n"Two lines",1,"a\tb\r\nc"\n')
    assert ImportJob.objects.get().status == "previewed"


def test_it_refuses_a_line_break_in_a_name(org):
    upload(login(org.vp), b'name,arr\n"Two\r\nlines",1\n')
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    assert "name" in str(job.errors).lower()


def test_it_names_the_line_of_bad_utf8_late_in_the_file(org):
    response = upload(login(org.vp), b"name,arr\n" + FILLER + b"Caf\xe9,100\n")
    assert response.status_code == 400
    assert b"line 402" in response.content
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    "header", [b"name,arr,arr", b"name,ARR,crm_id,arr", b"Name,arr,name", b"name,arr,Arr "]
)
def test_it_refuses_a_repeated_header_naming_it(org, header):
    response = upload(
        login(org.vp), header + b"\n" + b",".join([b"1"] * header.count(b",")) + b"1\n"
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "more than once" in text
    assert "arr" in text.lower() or "name" in text.lower()
    assert not ImportJob.objects.exists()


def test_it_allows_several_blank_headers(org):
    upload(login(org.vp), b"name,arr,,\nFoo,1,,\n")
    assert ImportJob.objects.get().status == "previewed"


def test_the_command_refuses_a_repeated_header(org, tmp_path):
    path = tmp_path / "book.csv"
    path.write_bytes(b"name,arr,arr\nFoo,1,2\n")
    with pytest.raises(CommandError, match="'arr' more than once"):
        call_command("import_accounts", str(path), stdout=StringIO())


def test_import_outcomes_refuses_a_repeated_header_and_a_late_nul(org, account_a, tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_bytes(b"crm_id,renewal_date,outcome,outcome\nA-1,2025-06-30,renewed,churned\n")
    with pytest.raises(CommandError, match="'outcome' more than once"):
        call_command("import_outcomes", str(path), stdout=StringIO())
    filler = b"".join(b"A-1,2025-06-%02d,renewed\n" % (1 + i % 28) for i in range(300))
    path.write_bytes(b"crm_id,renewal_date,outcome\n" + filler + b"A-1,2025-07-01,rene\x00wed\n")
    out = StringIO()
    with pytest.raises(CommandError, match="problem"):
        call_command("import_outcomes", str(path), stdout=out)
    assert "row 302, outcome" in out.getvalue() and "NUL" in out.getvalue()


def test_the_signal_upload_refuses_a_repeated_header(org, account_a):
    response = login(org.vp).post(
        "/signals/upload/",
        {
            "kind": "tickets",
            "file": SimpleUploadedFile(
                "t.csv", b"external_id,account,opened_at,account\nT-1,A-1,2026-01-01,A-1\n"
            ),
        },
    )
    assert response.status_code == 400
    assert b"more than once" in response.content


def test_the_signal_upload_reports_a_late_nul_on_its_row(org, account_a):
    from signals.models import SignalImport

    rows = b"".join(b"T-%d,A-1,2026-01-01\n" % i for i in range(400))
    login(org.vp).post(
        "/signals/upload/",
        {
            "kind": "tickets",
            "file": SimpleUploadedFile(
                "t.csv", b"external_id,account,opened_at\n" + rows + b"T-x\x00,A-1,2026-01-01\n"
            ),
        },
    )
    job = SignalImport.objects.get()
    assert any(e["row"] == 402 and "NUL" in e["reason"] for e in job.errors), job.errors


def test_a_contacts_preview_catches_what_postgresql_would_refuse_at_commit(org, account_a):
    long_id = "C" * 65
    content = (
        "account_crm_id,name,email,crm_id\n"
        f"A-1,{'N' * 201},a@example.com,C-1\n"
        f"A-1,Bea,{'b' * 250}@example.com,{long_id}\n"
    ).encode()
    upload(login(org.vp), content, kind="contacts")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    assert {(e["row"], e["column"]) for e in job.errors} == {
        (2, "name"),
        (3, "email"),
        (3, "crm_id"),
    }
    assert not Contact.objects.exists()


def test_a_commit_that_fails_marks_the_job_failed_with_the_reason(
    org, monkeypatch, django_capture_on_commit_callbacks
):
    client = quiet(org.vp)
    upload(client, b"name,arr\nFoo,1\nBar,2\n")
    job = ImportJob.objects.get()
    assert job.status == "previewed"

    def refuse(*args, **kwargs):  # the database refuses the write (disk full, a constraint…)
        raise DatabaseError("could not extend file: No space left on device")

    monkeypatch.setattr(type(Account.objects), "bulk_create", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accounts/import/{job.pk}/commit/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "failed"
    assert "No space left on device" in job.message
    assert "nothing was imported" in job.message.lower()
    assert job.finished_at is not None
    assert not Account.objects.exists()
    page = client.get(f"/accounts/import/{job.pk}/").content.decode()
    assert "No space left on device" in page


def test_the_sweeper_runs_an_import_whose_task_was_lost_and_fails_a_day_old_one(
    org, django_capture_on_commit_callbacks
):
    import datetime as dt

    from accounts.tasks import sweep_import_jobs_task
    from csrisk import clock

    client = login(org.vp)
    upload(client, b"name,arr\nFoo,1\n")
    upload(client, b"name,arr\nBar,2\n")
    lost, ancient = ImportJob.objects.order_by("pk")
    with django_capture_on_commit_callbacks(execute=False):  # the messages are lost
        client.post(f"/accounts/import/{lost.pk}/commit/")
        client.post(f"/accounts/import/{ancient.pk}/commit/")
    now = clock.now()
    ImportJob.objects.filter(pk=lost.pk).update(queued_at=now - dt.timedelta(minutes=11))
    ImportJob.objects.filter(pk=ancient.pk).update(queued_at=now - dt.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_import_jobs_task.apply().get() == [1, 1]
    lost.refresh_from_db()
    ancient.refresh_from_db()
    assert lost.status == "done"
    assert ancient.status == "failed" and "never ran" in ancient.message
    assert list(Account.objects.values_list("name", flat=True)) == ["Foo"]
    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_import_jobs_task.apply().get() == [0, 0]
