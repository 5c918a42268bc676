"""Token guessing on the API is throttled per address: after a few failed token
authentications in a window, that address gets 429 with Retry-After and a JSON reason,
whatever token it sends, until the window ends (issue 19)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from rest_framework.test import APIClient

from csrisk import clock, tokens

LIMIT = getattr(settings, "CSRISK_API_AUTH_FAILURE_LIMIT", 10)
WINDOW = getattr(settings, "CSRISK_API_AUTH_FAILURE_WINDOW_SECONDS", 300)
NOW = dt.datetime(2026, 12, 7, 9, 0, 10, tzinfo=dt.UTC)
URL = "/api/v1/accounts/"


def _client(ip: str = "203.0.113.7", key: str = "0" * 40) -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _good_key(user) -> str:
    return tokens.token_create(user=user, by=None)[1]


def test_it_throttles_an_address_that_sends_bad_tokens(org):
    guesser = _client()
    with clock.frozen(NOW):
        statuses = [guesser.get(URL).status_code for _ in range(30)]
        assert statuses[:LIMIT] == [401] * LIMIT
        assert set(statuses[LIMIT:]) == {429}
        response = guesser.get(URL)
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert "failed token" in response.json()["detail"]
    assert 0 < int(response["Retry-After"]) <= WINDOW


def test_it_refuses_even_a_good_token_from_a_throttled_address(org):
    with clock.frozen(NOW):
        guesser = _client()
        for _ in range(LIMIT):
            guesser.get(URL)
        # a right guess must not be told apart from a wrong one while throttled
        response = _client(key=_good_key(org.vp)).get(URL)
        assert response.status_code == 429
        # another address is not affected
        response = _client("198.51.100.9", key=_good_key(org.vp)).get(URL)
        assert response.status_code == 200


def test_it_counts_only_failed_token_authentications(org):
    with clock.frozen(NOW):
        good = _client(key=_good_key(org.vp))
        assert {good.get(URL).status_code for _ in range(2 * LIMIT)} == {200}
        anonymous = APIClient(REMOTE_ADDR="203.0.113.7")
        assert {anonymous.get(URL).status_code for _ in range(2 * LIMIT)} == {401}
        assert good.get(URL).status_code == 200


def test_it_lifts_the_throttle_when_the_window_ends(org):
    guesser = _client()
    with clock.frozen(NOW):
        for _ in range(LIMIT):
            guesser.get(URL)
        assert guesser.get(URL).status_code == 429
    with clock.frozen(NOW + dt.timedelta(seconds=WINDOW)):
        assert _client(key=_good_key(org.vp)).get(URL).status_code == 200
        assert guesser.get(URL).status_code == 401


def test_it_throttles_the_signal_ingestion_endpoint_too(org):
    with clock.frozen(NOW):
        guesser = _client()
        statuses = [
            guesser.post("/api/v1/signals/", [], format="json").status_code
            for _ in range(LIMIT + 1)
        ]
    assert statuses[-1] == 429


def test_it_throttles_every_configured_credential_class():
    """A token backend swapped in later (hashed tokens) must mix the throttle in too."""
    from rest_framework.authentication import SessionAuthentication
    from rest_framework.settings import api_settings

    from csrisk.api.authentication import FailedAuthenticationThrottle

    unthrottled = [
        cls.__name__
        for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES
        if not issubclass(cls, SessionAuthentication | FailedAuthenticationThrottle)
    ]
    assert unthrottled == []
