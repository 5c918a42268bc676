"""The import pages: upload → preview with every problem → commit → progress → done."""

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Account, ImportJob
from tests.conftest import login

GOOD = b"name,arr,crm_id,owner_email\nFoo,100,X-1,csm_a@example.com\nBar,200,X-2,\n"


def upload(client, content: bytes, name: str = "book.csv", **extra):
    return client.post(
        "/accounts/import/",
        {"file": SimpleUploadedFile(name, content, "text/csv"), "encoding": "utf-8", **extra},
    )


def test_it_previews_then_imports_on_commit(org, django_capture_on_commit_callbacks):
    client = login(org.lead_a)
    response = upload(client, b"name,arr,owner_email\nFoo,100,csm_a@example.com\n")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/import/{job.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "1</strong> to create" in page
    assert Account.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/accounts/import/{job.pk}/commit/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done"
    assert Account.objects.get().owner == org.csm_a
    assert (
        "Imported: 1 created, 0 updated."
        in client.get(f"/accounts/import/{job.pk}/").content.decode()
    )


def test_it_lists_problems_and_refuses_to_commit(org):
    client = login(org.vp)
    upload(client, b"name,arr\nFoo,abc\n,5\n")
    job = ImportJob.objects.get()
    assert job.status == "invalid"
    page = client.get(f"/accounts/import/{job.pk}/").content.decode()
    assert "not a number" in page
    assert "name is required" in page
    client.post(f"/accounts/import/{job.pk}/commit/")
    job.refresh_from_db()
    assert job.status == "invalid"
    assert Account.objects.count() == 0


def test_it_shows_a_whole_file_error_as_400_without_storing(org):
    response = upload(login(org.vp), b"")
    assert response.status_code == 400
    assert b"The submitted file is empty." in response.content
    assert not ImportJob.objects.exists()


def test_it_refuses_a_file_over_the_limit(org, settings):
    settings.CSRISK_IMPORT_MAX_BYTES = 100
    response = upload(login(org.vp), b"name,arr\n" + b"x,1\n" * 100)
    assert response.status_code == 400
    assert b"the limit is" in response.content


def test_it_reports_a_bad_mapping(org):
    response = upload(login(org.vp), GOOD, mapping="{not json")
    assert response.status_code == 400
    assert b"Not valid JSON" in response.content


def test_it_commits_only_once(org, django_capture_on_commit_callbacks):
    client = login(org.vp)
    upload(client, GOOD)
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(f"/accounts/import/{job.pk}/commit/")
        client.post(f"/accounts/import/{job.pk}/commit/")
    # the run is queued once (the other callbacks are the run's own: accounts changed)
    assert sum("import_job_commit" in c.__qualname__ for c in callbacks) == 1
    assert Account.objects.count() == 2


def test_it_answers_htmx_polling_with_the_status_fragment(org):
    client = login(org.vp)
    upload(client, GOOD)
    job = ImportJob.objects.get()
    response = client.post(
        f"/accounts/import/{job.pk}/commit/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="import-status"
    )
    assert response.status_code == 200
    assert b'id="import-status"' in response.content
    assert b"<html" not in response.content


def test_it_gives_the_whole_page_to_htmx_following_the_upload_redirect(org):
    client = login(org.vp)
    upload(client, GOOD)
    job = ImportJob.objects.get()
    response = client.get(f"/accounts/import/{job.pk}/", HTTP_HX_REQUEST="true")
    assert b"<html" in response.content
    assert b'id="import-status"' in response.content


def test_it_keeps_imports_to_leads_vp_and_ceo(org):
    assert login(org.csm_a).get("/accounts/import/").status_code == 403
    assert login(org.support).get("/accounts/import/").status_code == 403
    assert login(org.lead_a).get("/accounts/import/").status_code == 200


def test_it_hides_another_persons_import(org):
    upload(login(org.lead_a), GOOD)
    job = ImportJob.objects.get()
    assert login(org.lead_b).get(f"/accounts/import/{job.pk}/").status_code == 404
    assert login(org.lead_b).post(f"/accounts/import/{job.pk}/commit/").status_code == 404


def test_it_refuses_get_on_commit(org):
    upload(login(org.vp), GOOD)
    job = ImportJob.objects.get()
    assert login(org.vp).get(f"/accounts/import/{job.pk}/commit/").status_code == 405
