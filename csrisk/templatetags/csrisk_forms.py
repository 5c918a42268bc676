"""Template tags for page forms."""

from __future__ import annotations

import uuid

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def submission_key() -> SafeString:
    """A hidden one-time token: the same form posted twice is acted on once (see
    csrisk.forms.submission_key); each rendering of the form gets a new one."""
    return format_html('<input type="hidden" name="submission" value="{}">', uuid.uuid4())
