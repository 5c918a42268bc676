"""Fragments that keep themselves current: the bell, the cockpit counters, the queues.

A page polls its fragment with htmx (``hx-trigger="every Ns"``, N being
``settings.CSRISK_LIVE_POLL_SECONDS``). Each answer carries an ETag made from a cheap
fingerprint of what the fragment shows (one aggregate query); the browser revalidates with
``If-None-Match`` and, when nothing changed, gets a bodiless 304: no template is rendered
and nothing is sent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers


def etag_of(*parts: object) -> str:
    """A quoted strong ETag of ``parts`` (their text; ordering matters)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


def fragment(request: HttpRequest, etag: str, build: Callable[[], HttpResponse]) -> HttpResponse:
    """``build()``'s response with ``etag``, or a 304 when the client holds it already."""
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = build()
    response["ETag"] = etag
    # Private (per person) and always revalidated: the poll asks, the 304 answers cheaply.
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie", "HX-Request"])
    return response
