"""Password guessing is stopped: repeated failed logins lock out the username and the IP,
on the login page and on the admin login alike, until the cool-off passes or an admin
unlocks them (issue 19)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.conftest import login
from tests.factories import PASSWORD

LIMIT = getattr(settings, "AXES_FAILURE_LIMIT", 5)


def _fail(client: Client, username: str, times: int, path: str = "/login/") -> None:
    for _ in range(times):
        client.post(path, {"username": username, "password": "wrong-guess"})


def _client(ip: str = "203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=ip)


def test_it_locks_out_a_username_after_repeated_wrong_passwords(org):
    guesser = _client()
    _fail(guesser, "csm_a", 30)
    response = guesser.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in guesser.session
    # the lockout holds for the username from anywhere, not just the guessing address
    elsewhere = _client("198.51.100.9")
    response = elsewhere.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 429


def test_it_counts_failures_only_up_to_the_limit(org):
    client = _client()
    _fail(client, "csm_a", LIMIT - 1)
    response = client.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/accounts/").status_code == 200


def test_it_locks_out_an_address_that_guesses_many_usernames(org):
    guesser = _client()
    for i in range(LIMIT):
        _fail(guesser, f"nobody{i}", 1)
    response = guesser.post("/login/", {"username": "csm_b", "password": PASSWORD})
    assert response.status_code == 429
    # the same person from another address is not affected
    response = _client("198.51.100.9").post("/login/", {"username": "csm_b", "password": PASSWORD})
    assert response.status_code == 302


def test_it_locks_out_the_admin_login_too(org):
    # /admin/login/ is no second door: anonymous visitors are sent to /login/, where the
    # superuser's name is locked out like anyone's.
    guesser = _client()
    _fail(guesser, "admin", 15, path="/admin/login/")
    _fail(guesser, "admin", 15)
    response = guesser.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert "_auth_user_id" not in guesser.session
    response = guesser.post("/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 429
    assert guesser.get("/admin/").status_code == 302  # still not logged in


def test_it_shows_a_lockout_page_with_a_reason_and_a_retry_after(org):
    guesser = _client()
    _fail(guesser, "csm_a", LIMIT)
    response = guesser.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 429
    minutes = settings.CSRISK_LOGIN_COOLOFF_MINUTES
    assert response["Retry-After"] == str(minutes * 60)
    body = response.content.decode()
    assert "Too many failed log-ins" in body
    assert f"{minutes} minutes" in body
    assert "app.css" in body  # the site's own page, not a bare text answer
    assert "wrong-guess" not in body and PASSWORD not in body


def test_it_lets_the_user_in_again_after_the_cool_off(org):
    from axes.models import AccessAttempt

    guesser = _client()
    _fail(guesser, "csm_a", LIMIT)
    cool_off = dt.timedelta(minutes=settings.CSRISK_LOGIN_COOLOFF_MINUTES)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - dt.timedelta(seconds=1))
    response = guesser.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize(
    "command", [["axes_reset_username", "csm_a"], ["axes_reset_ip", "203.0.113.7"], ["axes_reset"]]
)
def test_it_unlocks_with_the_management_commands(org, command):
    guesser = _client()
    _fail(guesser, "csm_a", LIMIT)
    assert guesser.post("/login/", {"username": "csm_a", "password": PASSWORD}).status_code == 429
    call_command(*command)
    response = guesser.post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 302


def test_it_lets_an_admin_unlock_from_the_admin(org):
    from axes.models import AccessAttempt

    _fail(_client(), "csm_a", LIMIT)
    attempt = AccessAttempt.objects.get(username="csm_a")
    admin = login(org.admin)
    assert admin.get("/admin/axes/accessattempt/").status_code == 200
    response = admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    response = _client().post("/login/", {"username": "csm_a", "password": PASSWORD})
    assert response.status_code == 302


def test_an_unreadable_client_address_is_counted_as_one_valid_address(settings):
    # PostgreSQL's inet column (axes' login records) refuses "unknown": a request without
    # REMOTE_ADDR, or a proxy that wrote garbage, counts under 0.0.0.0.
    from django.http import HttpRequest

    from csrisk.security import UNKNOWN_ADDRESS, client_ip

    assert client_ip(HttpRequest()) == UNKNOWN_ADDRESS == "0.0.0.0"
    settings.CSRISK_TRUSTED_PROXIES = 1
    request = HttpRequest()
    request.META.update(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="unknown")
    assert client_ip(request) == "10.0.0.5"
    request.META["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
    assert client_ip(request) == "203.0.113.9"
