"""Hostile or clumsy page inputs: each answers a 4xx with a reason, or a safe redirect,
and never a 500 (csrisk issue 19, trust boundaries).

Add a case to the table that fits it; a case that needs its own set-up gets its own test.
Every request here runs with ``raise_request_exception=False`` so that a crash shows as a
500 answer, exactly as a browser would see it, instead of as a test error.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Account, ImportJob
from csrisk import clock
from csrisk.models import Notification
from ctas import services as cta_services
from ctas.models import Cta
from tests.conftest import login

HUGE = "99999999999999999999"  # past a 64-bit integer
ODD_IDS = [HUGE, "abc", "-1", "1.5", "²", "0x10", " 1", ""]
OFFSITE = ["https://evil.example/", "//evil.example/", "javascript:alert(1)", "\\\\evil.example"]


def client_for(user) -> Client:
    client = login(user)
    client.raise_request_exception = False
    return client


def assert_safe(response) -> None:
    """A 4xx, or a redirect that stays on this site; never a 5xx."""
    assert response.status_code < 500, response.content[:300]
    if response.status_code in (301, 302, 303, 307, 308):
        location = urlsplit(response["Location"])
        assert not location.scheme and not location.netloc, response["Location"]
        assert response["Location"].startswith("/"), response["Location"]
        assert not response["Location"].startswith(("//", "/\\")), response["Location"]


@pytest.fixture
def cta(org, account_a) -> Cta:
    return cta_services.cta_create(account=account_a, by=org.csm_a, reason="Renewal", area="habits")


def _note(user) -> Notification:
    return Notification.objects.create(user=user, kind="cta", title="Hi", created_at=clock.now())


# --- ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ODD_IDS)
def test_it_answers_an_odd_notification_id_without_a_500(org, raw):
    _note(org.csm_a)
    response = client_for(org.csm_a).post("/notifications/read/", {"id": raw})
    assert_safe(response)


def test_it_refuses_a_notification_id_it_cannot_read_and_marks_nothing(org):
    note = _note(org.csm_a)
    response = client_for(org.csm_a).post("/notifications/read/", {"id": HUGE})
    assert response.status_code == 400
    assert b"id" in response.content
    note.refresh_from_db()
    assert note.read_at is None  # an unreadable id is not "mark them all"


@pytest.mark.parametrize("raw", ODD_IDS)
def test_it_answers_an_odd_summary_account_with_a_400(org, raw):
    response = client_for(org.vp).post("/summary/actions/", {"account": raw, "signal": "velocity"})
    assert_safe(response)
    assert response.status_code in (400, 404)


def test_it_names_the_field_of_a_bad_summary_account(org):
    response = client_for(org.vp).post("/summary/actions/", {"account": "abc", "signal": "x"})
    assert response.status_code == 400
    assert b"account" in response.content


@pytest.mark.parametrize(
    "path",
    [
        f"/accounts/{HUGE}/",
        f"/accounts/{HUGE}/edit/",
        f"/cockpit/ctas/{HUGE}/",
        f"/accounts/import/{HUGE}/",
        f"/cockpit/?user={HUGE}",
        "/cockpit/?user=²",
        f"/accounts/?per_page={HUGE}&page={HUGE}",
        f"/scorecards/?team={HUGE}&csm={HUGE}",
        "/scorecards/?team=²",
        f"/summary/backtest/?horizon={HUGE}",
        "/summary/backtest/?horizon=²",
    ],
)
def test_it_answers_odd_ids_in_pages_without_a_500(org, path):
    assert_safe(client_for(org.vp).get(path))


@pytest.mark.parametrize("raw", ODD_IDS)
def test_it_answers_an_odd_sponsor_id_without_a_500(org, account_a, raw):
    response = client_for(org.vp).post(
        f"/sponsors/accounts/{account_a.pk}/assign/", {"sponsor": raw}
    )
    assert_safe(response)


@pytest.mark.parametrize("raw", [*ODD_IDS, "1" * 30])
def test_it_answers_an_odd_escalation_level_without_a_500(org, cta, raw):
    from escalation.models import Escalation

    cta_services.cta_flag(cta=cta, by=org.csm_a, reason="Need help")
    escalation = Escalation.objects.get(cta=cta, status="open")
    response = client_for(org.vp).post(f"/escalations/{escalation.pk}/escalate/", {"level": raw})
    assert_safe(response)
    assert response.status_code != 404


@pytest.mark.parametrize("raw", ODD_IDS)
def test_it_answers_an_odd_reassign_owner_without_a_500(org, cta, raw):
    response = client_for(org.lead_a).post(f"/cockpit/ctas/{cta.pk}/reassign/", {"owner": raw})
    assert_safe(response)


def test_it_answers_a_foreign_host_header_with_a_400():
    response = Client(raise_request_exception=False).get("/accounts/", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_it_shows_the_reason_of_a_bad_id_on_a_plain_page(org):
    response = client_for(org.csm_a).post("/notifications/read/", {"id": "abc"})
    assert response.status_code == 400
    assert b"id: &#x27;abc&#x27; is not an id" in response.content


# --- next ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", OFFSITE)
def test_the_cockpit_never_redirects_offsite(org, cta, target):
    response = client_for(org.csm_a).post(
        f"/cockpit/ctas/{cta.pk}/flag/", {"reason": "help", "next": target}
    )
    assert response.status_code == 302
    assert response["Location"] == "/cockpit/"


def test_the_cockpit_follows_a_next_on_this_site(org, cta):
    response = client_for(org.csm_a).post(
        f"/cockpit/ctas/{cta.pk}/unflag/", {"next": f"/cockpit/ctas/{cta.pk}/"}
    )
    assert response["Location"] == f"/cockpit/ctas/{cta.pk}/"


@pytest.mark.parametrize("target", OFFSITE)
def test_the_cockpit_page_ignores_a_next_in_its_query(org, target):
    response = client_for(org.csm_a).get("/cockpit/", {"next": target})
    assert response.status_code == 200


@pytest.mark.parametrize("target", OFFSITE)
def test_the_login_page_never_redirects_offsite(org, target):
    org.csm_a.set_password("pw-123456")
    org.csm_a.save()
    client = Client(raise_request_exception=False)
    response = client.post(
        "/login/", {"username": "csm_a", "password": "pw-123456", "next": target}
    )
    assert_safe(response)


# --- CSV imports -----------------------------------------------------------------------------


def _upload(client: Client, content: bytes):
    return client.post(
        "/accounts/import/",
        {"file": SimpleUploadedFile("book.csv", content, "text/csv"), "encoding": "utf-8"},
    )


def test_it_refuses_a_nul_byte_past_the_first_4_kb_at_the_preview(org):
    rows = b"".join(b"Acct %d,100\n" % i for i in range(400))
    content = b"name,arr\n" + rows + b"Late\x00Nul,100\n"
    assert len(content) > 4096
    response = _upload(client_for(org.vp), content)
    assert_safe(response)
    job = ImportJob.objects.filter(created_by=org.vp).first()
    # Either refused as a whole file (400, no job) or previewed with the row named.
    if job is None:
        assert response.status_code == 400
    else:
        assert job.status == "invalid"
        assert any(e["row"] == 402 for e in job.errors), job.errors
    assert not Account.objects.exists()


def test_it_names_a_duplicate_csv_header(org):
    response = _upload(client_for(org.vp), b"name,arr,arr\nFoo,1,2\n")
    assert response.status_code == 400
    assert b"arr" in response.content and b"more than once" in response.content
    assert not ImportJob.objects.exists()
