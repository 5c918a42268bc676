"""API authentication: hashed tokens, and a throttle on token guessing (issue 19).

``FailedAuthenticationThrottle`` goes in front of any DRF authentication class: it counts,
per client address, the requests that class refused (``AuthenticationFailed``), and once
an address has ``CSRISK_API_AUTH_FAILURE_LIMIT`` failures in the current window of
``CSRISK_API_AUTH_FAILURE_WINDOW_SECONDS``, every request from it that carries an
``Authorization`` header gets 429 with Retry-After until the window ends: a right guess
then looks the same as a wrong one. It keys on the failure, not on how tokens are stored,
so a hashed-token backend gets the same protection by mixing it in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.request import Request

from csrisk import clock, tokens
from csrisk.security import client_ip


def _window(now: float) -> tuple[int, int]:
    """(start, end) of the fixed window ``now`` falls in, in epoch seconds."""
    size = settings.CSRISK_API_AUTH_FAILURE_WINDOW_SECONDS
    start = int(now // size) * size
    return start, start + size


def _key(address: str, start: int) -> str:
    return f"api-auth-failures:{address}:{start}"


class FailedAuthenticationThrottle:
    """Mix in before a DRF authentication class (see the module docstring)."""

    def authenticate(self, request: Request) -> Any:
        if not get_authorization_header(request):
            # Nothing to guess with; also lets a logged-in browser on a throttled network
            # keep using the API with its session.
            return super().authenticate(request)  # type: ignore[misc]
        address = client_ip(request)
        now = clock.now().timestamp()
        start, end = _window(now)
        key = _key(address, start)
        if cache.get(key, 0) >= settings.CSRISK_API_AUTH_FAILURE_LIMIT:
            raise exceptions.Throttled(
                wait=max(1, round(end - now)),
                detail="Too many failed token authentications from this address.",
            )
        try:
            return super().authenticate(request)  # type: ignore[misc]
        except exceptions.AuthenticationFailed:
            # add-then-incr is atomic on Redis and per process on the local-memory cache
            cache.add(key, 0, timeout=end - start)
            cache.incr(key)
            raise


class ApiTokenAuthentication(FailedAuthenticationThrottle, TokenAuthentication):
    """``Authorization: Token <key>`` (CONTRACT.md) against hashed, expiring, revocable
    tokens, with failed attempts throttled per address. DRF's header parsing and 401
    challenge; the key is looked up by its SHA-256. ``request.auth`` is the ``ApiToken``,
    which signal ingestion records as the sender."""

    keyword = "Token"

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token, why = tokens.token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed(why)
        return token.user, token
