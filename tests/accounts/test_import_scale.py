"""A team lead's import costs what the VP's does: one permission read for the whole file,
not one per row, and a large file is checked in the background with its progress shown."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, ImportJob
from tests.conftest import login
from tests.factories import AccountFactory


def book_file(n: int, *, start: int = 0) -> bytes:
    rows = "".join(
        f"Acct {i},{100 + i},L-{i},{'csm_a@example.com' if i % 2 else 'csm_a2@example.com'}\n"
        for i in range(start, start + n)
    )
    return ("name,arr,crm_id,owner_email\n" + rows).encode()


def upload(client, content: bytes):
    return client.post(
        "/accounts/import/",
        {"file": SimpleUploadedFile("book.csv", content, "text/csv"), "encoding": "utf-8"},
    )


@pytest.fixture
def lead_book(org):
    """Half the rows of the file update accounts the lead's team already has."""
    org.csm_a.email, org.csm_a2.email = "csm_a@example.com", "csm_a2@example.com"
    org.csm_a.save()
    org.csm_a2.save()
    for i in range(0, 400, 2):
        AccountFactory(owner=org.csm_a, crm_id=f"L-{i}", name=f"Acct {i}")
    return org


def queries_for_upload(client, content: bytes) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = upload(client, content)
    assert response.status_code == 302, response.content[:500]
    return len(ctx.captured_queries)


def test_a_leads_preview_reads_permissions_once_not_per_row(
    lead_book, django_assert_max_num_queries
):
    client = login(lead_book.lead_a)
    small = queries_for_upload(client, book_file(4))
    with django_assert_max_num_queries(small):
        upload(client, book_file(400))
    job = ImportJob.objects.first()
    assert job.status == "previewed", job.errors[:3]
    assert (job.created_count, job.updated_count) == (200, 200)


def test_a_leads_commit_reads_permissions_once_not_per_row(
    lead_book, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = login(lead_book.lead_a)
    upload(client, book_file(4))
    upload(client, book_file(400))
    small, large = ImportJob.objects.order_by("pk")
    with CaptureQueriesContext(connection) as ctx, django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/import/{small.pk}/commit/")
    # No statement per row: the only growth is the database splitting a bulk INSERT
    # (SQLite takes at most 999 values in one), a few statements for 400 rows.
    bound = len(ctx.captured_queries) + 8
    with django_assert_max_num_queries(bound), django_capture_on_commit_callbacks(execute=True):
        client.post(f"/accounts/import/{large.pk}/commit/")
    large.refresh_from_db()
    assert large.status == "done", large.message
    assert Account.objects.filter(crm_id__startswith="L-").count() == 400


def test_a_lead_may_still_not_touch_another_teams_account(lead_book, account_b):
    client = login(lead_book.lead_a)
    upload(client, b"name,arr,crm_id\nBeta LLC,5,B-1\n")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    assert job.errors[0]["reason"] == "you may not change this account"


def test_a_large_file_is_checked_in_the_background_with_progress(
    lead_book, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_IMPORT_INLINE_ROWS = 50
    client = login(lead_book.lead_a)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(client, book_file(120))
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/import/{job.pk}/"
    assert (job.status, job.total_rows) == ("checking", 120)
    page = client.get(f"/accounts/import/{job.pk}/").content.decode()
    assert "Checking" in page and 'hx-trigger="every 1s"' in page
    assert "<progress" in page
    for callback in queued:  # what a worker (or, without Redis, the web process) runs
        callback()
    job.refresh_from_db()
    assert job.status == "previewed", job.errors[:3]
    assert (job.created_count, job.updated_count) == (60, 60)
    page = client.get(f"/accounts/import/{job.pk}/").content.decode()
    assert "60</strong> to create" in page


def test_a_large_file_with_bad_rows_ends_invalid_with_the_report(
    lead_book, settings, django_capture_on_commit_callbacks
):
    settings.CSRISK_IMPORT_INLINE_ROWS = 5
    client = login(lead_book.lead_a)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, book_file(10) + b"Bad,abc,L-x,csm_a@example.com\n")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    assert [(e["row"], e["reason"]) for e in job.errors] == [(12, "not a number")]


def test_a_whole_file_problem_in_a_large_file_still_answers_400_at_once(org, settings):
    settings.CSRISK_IMPORT_INLINE_ROWS = 1
    response = upload(login(org.lead_a), b"name,arr,arr\nA,1,2\nB,1,2\n")
    assert response.status_code == 400
    assert not ImportJob.objects.exists()
