"""Reading untrusted page inputs: ids and ``next`` addresses, in one place.

Every view that turns a query or form value into a database id, or redirects to a
``next`` it was given, calls these, so an odd value answers 400 (with the reason) or is
ignored, never a 500, and no redirect ever leaves the site.
"""

from __future__ import annotations

import re

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

# Ids are BigAutoField: 1 .. 2**63 - 1. ASCII digits only (str.isdigit accepts "²").
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


class BadInput(BadRequest):
    """A page input that cannot be read; its message is shown to the person (400)."""


def parse_id(raw: object) -> int | None:
    """The id in ``raw`` (a form or query value), or None when it is not one."""
    if not isinstance(raw, str) or not _DIGITS.fullmatch(raw):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def require_id(raw: object, *, field: str) -> int:
    """The id in ``raw``; raise BadInput (400) naming ``field`` when it is not one."""
    value = parse_id(raw)
    if value is None:
        shown = str(raw)[:40] if raw else ""
        raise BadInput(f"{field}: {shown!r} is not an id (expected a whole number).")
    return value


def parse_int(raw: object, *, default: int, allowed: tuple[int, ...] | None = None) -> int:
    """A small whole number from a query value; ``default`` when absent, odd or not allowed."""
    if not isinstance(raw, str) or not re.fullmatch(r"-?[0-9]{1,9}", raw):
        return default
    value = int(raw)
    return value if allowed is None or value in allowed else default


def safe_next(request: HttpRequest, raw: object) -> str | None:
    """``raw`` when it is an address on this site (same host, an allowed scheme), else None."""
    if not isinstance(raw, str) or not raw:
        return None
    if url_has_allowed_host_and_scheme(
        raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return raw
    return None


def redirect_next(
    request: HttpRequest, default: str, *args: object, **kwargs: object
) -> HttpResponseRedirect:
    """Redirect to the request's ``next`` (POST, then GET) if it is safe, else to ``default``
    (a URL name or path, resolved like ``redirect``)."""
    target = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if target is not None:
        return HttpResponseRedirect(target)
    return redirect(default, *args, **kwargs)
