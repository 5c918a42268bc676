"""Validators shared by every app's model fields, forms, serializers and imports."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# C0 and C1 control characters (CR, LF, tab, NUL, ESC…) and the Unicode line and paragraph
# separators: none belongs in a one-line name or title, and a CR/LF in one breaks the
# e-mail headers it ends up in.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

CONTROL_CHARACTERS_MESSAGE = (
    "Contains a control character (a line break, tab or similar); use one line of plain text."
)


def control_character_reason(value: str) -> str:
    """Why this text may not be a name or title, or "" when it may."""
    return CONTROL_CHARACTERS_MESSAGE if _CONTROL.search(value or "") else ""


def validate_one_line(value: str) -> None:
    """Model-field validator for names and titles: one line, no control characters."""
    if control_character_reason(value):
        raise ValidationError(CONTROL_CHARACTERS_MESSAGE, code="control_characters")
