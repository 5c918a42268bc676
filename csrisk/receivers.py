"""Handlers of Django's own signals for the shared plumbing (connected in CsriskConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from csrisk.middleware import FAILED_ATTR, current_database_error


def remember_database_error(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """got_request_exception: note a database error on the request, so that the outermost
    middleware answers 503 instead of the 500 Django made of it (also with DEBUG on)."""
    exc = current_database_error()
    if exc is not None and request is not None:
        setattr(request, FAILED_ATTR, exc)
