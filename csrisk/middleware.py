"""Every page needs a logged-in person; the API authenticates on its own (session or token)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden

# Paths that answer without a session: the API (DRF authenticates and refuses with 401/403
# itself), health probes, static files, and the login page.
OPEN_PREFIXES = ("/api/", "/healthz", "/readyz", "/static/", "/login/")


class LoginRequiredForPagesMiddleware:
    """Redirect anonymous visitors to the login page; refuse integration users any page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if not path.startswith(OPEN_PREFIXES):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
            if user.is_integration:
                return HttpResponseForbidden(
                    "Integration users have no access to pages; they may only push signals."
                )
        return self.get_response(request)
