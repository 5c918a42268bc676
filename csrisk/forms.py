"""Form helpers shared by the apps' pages."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when it names one of the
    form's fields, else as a form-wide error (also for a plain message without fields)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def submission_key(data: Mapping[str, Any]) -> uuid.UUID | None:
    """The one-time token a page form carries (``{% submission_key %}``), or None.

    Posting the same form twice sends the same token; the services keep one row per
    (person, token) with a unique constraint, so a double click acts once.
    """
    try:
        return uuid.UUID(str(data.get("submission", "")))
    except ValueError:
        return None
