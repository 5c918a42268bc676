"""DRF's browsable API under the Content-Security-Policy (docs/security.md)."""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML pages carry inline styles (the code highlighting's <style>, two style
    attributes on the filter buttons); their scripts are all files. So these pages alone
    allow inline styles, and scripts stay as strict as everywhere."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            # what csp.decorators.csp_update sets (added to the policy), read by the middleware
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
