"""Who is knocking, and what they get when they knock too often (issue 19).

One notion of the client's address serves the login lockout (django-axes) and the API's
failed-token throttle, so a proxy setting fixes both at once.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_ip(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or, behind ``CSRISK_TRUSTED_PROXIES``
    proxies, the address the outermost of them saw in X-Forwarded-For.

    Counting from the right matters: a client can put anything at the left of the header,
    so only the entries our own proxies appended are believed.
    """
    remote = _address(request.META.get("REMOTE_ADDR")) or UNKNOWN_ADDRESS
    proxies = settings.CSRISK_TRUSTED_PROXIES
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        return remote  # not through all of our proxies: the header is not ours
    return _address(forwarded[-proxies]) or remote


# A request without a readable address (no REMOTE_ADDR: a management command's request, a
# proxy that wrote "unknown") counts under one address that PostgreSQL's inet column, where
# django-axes records logins, accepts.
UNKNOWN_ADDRESS = "0.0.0.0"


def _address(value: object) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one."""
    try:
        return str(ipaddress.ip_address(str(value).strip())) if value else None
    except ValueError:
        return None


def locked_out(
    request: HttpRequest,
    response: HttpResponse | None = None,
    credentials: dict | None = None,
) -> HttpResponse:
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): our own page,
    429 with Retry-After, saying how long to wait and who can unlock."""
    minutes = settings.CSRISK_LOGIN_COOLOFF_MINUTES
    page = render(
        request,
        "registration/locked_out.html",
        {"cooloff_minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    page["Retry-After"] = str(minutes * 60)
    page["Cache-Control"] = "no-store"
    return page
