"""Every page needs a logged-in person; the API authenticates on its own (session or token).
While the database is unreachable, every request gets a 503 with Retry-After, not a 500."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.utils.functional import SimpleLazyObject, empty

from csrisk import logs, metrics

logger = logging.getLogger(__name__)
requests_log = logging.getLogger("csrisk.requests")

# What a database that is down, restarting or unreachable raises (psycopg2: "connection
# refused", "server closed the connection unexpectedly", "the database system is starting
# up"; also a connection Django already knows is closed).
DATABASE_ERRORS = (OperationalError, InterfaceError)

# Set on the request when Django turned a database error raised inside a middleware into
# a 500 (csrisk.receivers.remember_database_error); the outermost middleware reads it.
FAILED_ATTR = "_csrisk_database_error"

UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    "<title>Temporarily unavailable · csrisk</title></head><body>"
    "<h1>csrisk is temporarily unavailable</h1>"
    "<p>The database cannot be reached right now. Nothing you sent was half-saved: "
    "try again in {seconds} seconds.</p></body></html>"
)


def is_database_error(exc: BaseException | None) -> bool:
    return isinstance(exc, DATABASE_ERRORS)


def database_unavailable(request: HttpRequest, exc: BaseException | None = None) -> HttpResponse:
    """503 + Retry-After: JSON for the API, a plain page for people. It touches neither the
    database nor the session nor a template (whose context processors would query)."""
    seconds = settings.CSRISK_RETRY_AFTER_SECONDS
    logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
    discard_broken_connections()
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": f"The database is unavailable; retry after {seconds} seconds."},
            status=503,
        )
    else:
        response = HttpResponse(
            UNAVAILABLE_PAGE.format(seconds=seconds),
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


def discard_broken_connections() -> None:
    """Close every connection that no longer answers, so the next request opens a fresh one
    (Django does the same when the request finishes; doing it here does not depend on the
    error having passed through its error wrapper)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None or conn.in_atomic_block:
            continue  # never opened, or a caller's transaction that must unwind first
        if not conn.is_usable():
            conn.close()


class DatabaseUnavailableMiddleware:
    """Answer 503 + Retry-After instead of 500 while the database is unreachable.

    Placed near the top of MIDDLEWARE so that it also covers what the session, auth and
    login middlewares do with the database before any view runs. Django turns an exception
    raised inside an inner middleware into a 500 response before it reaches us, so such
    errors are recognised by the flag ``csrisk.receivers`` sets on the request; errors from
    views arrive in ``process_exception``; the DRF views answer through the API's exception
    handler (csrisk.api.exceptions).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            response = self.get_response(request)
        except DATABASE_ERRORS as exc:  # the 500 handler itself failed on the database
            return database_unavailable(request, exc)
        failed = getattr(request, FAILED_ATTR, None)
        if failed is not None and response.status_code >= 500 and response.status_code != 503:
            return database_unavailable(request, failed)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_error(exception):
            return database_unavailable(request, exception)
        return None


def current_database_error() -> BaseException | None:
    """The database error being handled right now, if that is what is being handled."""
    exc = sys.exc_info()[1]
    return exc if is_database_error(exc) else None


# Paths that answer without a session: the API (DRF authenticates and refuses with 401/403
# itself), health probes, static files, the login page, single sign-on's start and callback,
# calendar feeds (their secret key is the credential: a calendar app has no session), and
# the metrics (a scraper's bearer token, or staff; anyone else gets a 404 from the view).
OPEN_PREFIXES = (
    "/api/", "/healthz", "/readyz", "/static/", "/login/", "/sso/", "/calendar/feed/",
    "/metrics",
)  # fmt: skip


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


class RequestLogMiddleware:
    """Outermost: give the request an id (a sane inbound X-Request-ID, else a new one),
    bind it into every log line of the request and the tasks it queues, echo it in the
    response, count and time the request for /metrics, and log one line about it.

    The line names the route, never the path or query: a calendar feed's path is its key.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = logs.request_id_from(request.headers.get(logs.REQUEST_ID_HEADER))
        tokens = logs.bind(request_id=request_id)
        began = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - began
            route = route_name(request)
            metrics.http_observed(request.method or "", route, response.status_code, seconds)
            requests_log.info(
                "%s %s %s",
                request.method,
                route,
                response.status_code,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "user_id": _user_id(request),
                },
            )
            response[logs.REQUEST_ID_HEADER] = request_id
            return response
        finally:
            logs.unbind(tokens)


def route_name(request: HttpRequest) -> str:
    """The URL pattern's name (``api-signals``, ``admin:index``), or its pattern when it
    has none; ``unmatched`` when no pattern matched (a 404): never the raw path, so the
    metric's labels stay few and a key in a path stays out of the logs."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "unmatched"
    return match.view_name or match.route or "unnamed"


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in person's id when authentication already loaded them (never a query)."""
    user = getattr(request, "user", None)
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped  # type: ignore[attr-defined]
        if user is empty:
            return None
    return user.pk if getattr(user, "is_authenticated", False) else None
