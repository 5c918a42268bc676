"""Errors raised by services reach API clients as 400/403 with a reason, never a 500; an
unreachable database is a 503 with Retry-After; a body over DATA_UPLOAD_MAX_MEMORY_SIZE is a
413."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from csrisk.middleware import database_unavailable, is_database_error


def exception_handler(exc: Exception, context: dict[str, Any]) -> HttpResponse | None:
    if is_database_error(exc):
        # DRF catches it before any middleware could; answer as the middleware does.
        return database_unavailable(context["request"], exc)
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer is an HTML 400; an API client needs to know it was the size.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return Response(
            {"detail": f"The body is larger than the limit of {limit} bytes."}, status=413
        )
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    return drf_exception_handler(exc, context)
