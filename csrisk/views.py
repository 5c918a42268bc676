"""Health probes, the home redirect, notifications, a person's API tokens and calendar
address, and pages whose capability has not landed yet."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import loader
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from csrisk import calendars, clock, live, metrics, notifications, tokens
from csrisk.inputs import BadInput, require_id
from csrisk.middleware import (
    current_database_error,
    database_unavailable,
    discard_broken_connections,
)
from csrisk.models import ApiToken, NotificationPreference
from csrisk.roles import home_page


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing else on purpose."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any failure means "not ready", with the reason
        discard_broken_connections()  # the next probe reconnects instead of reusing it
        return f"{type(exc).__name__}: {exc}"
    return None


def _check_broker() -> str | None:
    if not settings.REDIS_URL:
        return None  # background work runs in-process: there is no broker to reach
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database and (when configured) the broker answer."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    ok = all(v is None for v in checks.values())
    body = {
        "status": "ok" if ok else "unavailable",
        "checks": {k: ("ok" if v is None else v) for k, v in checks.items()},
        "broker": "redis" if settings.REDIS_URL else "in-process",
    }
    response = JsonResponse(body, status=200 if ok else 503)
    if not ok:
        response["Retry-After"] = str(settings.CSRISK_RETRY_AFTER_SECONDS)
    return response


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus metrics (csrisk.metrics) for a scraper holding ``CSRISK_METRICS_TOKEN``
    (``Authorization: Bearer …``) or a signed-in staff user (the admin site's). Anyone
    else gets a 404, as if there were nothing here; with no token set, only staff."""
    if not _may_read_metrics(request):
        raise Http404("Not found.")
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    return HttpResponse(metrics.scrape(), content_type=metrics.CONTENT_TYPE)


def _may_read_metrics(request: HttpRequest) -> bool:
    expected = settings.CSRISK_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if expected and scheme.lower() == "bearer" and given:
        # Constant time: how much of a guess matched must not show in the answer's timing.
        return hmac.compare_digest(given.strip().encode(), expected.encode())
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def home(request: HttpRequest) -> HttpResponse:
    """Each role's working page (``roles.home_page``): where logging in lands."""
    return redirect(home_page(request.user))


def coming_soon(request: HttpRequest, *, title: str, issue: str) -> HttpResponse:
    """A page that a later capability fills; it says so plainly instead of pretending."""
    return render(request, "coming_soon.html", {"title": title, "issue": issue})


@require_GET
@vary_on_headers("HX-Request")
def notification_list(request: HttpRequest) -> HttpResponse:
    return _notifications(request)


def _notifications(request: HttpRequest) -> HttpResponse:
    items = notifications.of_user(request.user)[:100]
    return render(
        request,
        "notifications/list.html",
        {"items": items, "unread": notifications.unread_count(request.user)},
    )


@require_GET
def notification_bell(request: HttpRequest) -> HttpResponse:
    """The bell, polled by every page: a 304 while the unread notifications are the same."""
    unread, last = notifications.unread_state(request.user)
    request._csrisk_unread = unread  # the navigation's count, without a second query

    def build() -> HttpResponse:
        return render(request, "partials/_bell.html")

    return live.fragment(request, live.etag_of("bell", unread, last), build)


@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    """Mark one notification (``id``) or all of them read."""
    raw = request.POST.get("id")
    # No id: mark them all. An id that is not one is refused, not taken for "all".
    ids = [require_id(raw, field="id")] if raw else None
    notifications.mark_read(user=request.user, ids=ids)
    if request.htmx:
        return _notifications(request)
    return redirect("notifications")


@csrf_exempt  # it changes nothing; a CSRF page here would be HTML for an API client
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: JSON for API clients, the site's page for people, with our reason when we gave
    one ("You cannot review this person's book."), not Django's query text."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    reason = _said(exception)
    if "matches the given query" in reason:
        reason = ""
    return render(request, "404.html", {"reason": reason}, status=404)


def forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: the site's page, saying why (our PermissionDenied messages are for people)."""
    reason = _said(exception) or "Your role does not allow this."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=403)
    return render(request, "403.html", {"reason": reason}, status=403)


def _said(exception: Exception) -> str:
    """The message an exception was raised with ("" for none, or for Django's resolver
    details, which are a dict)."""
    said = exception.args[0] if getattr(exception, "args", None) else ""
    return said if isinstance(said, str) else ""


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400: the reason, when it is one of ours (BadInput); JSON for API clients."""
    reason = str(exception) if isinstance(exception, BadInput) else "The request is malformed."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": reason}, status=400)
    # No request context: a 400 may come before the middleware set request.user.
    return HttpResponse(loader.render_to_string("400.html", {"reason": reason}), status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    exc = current_database_error()
    if exc is not None:  # the page below would query (context processors) and fail again
        return database_unavailable(request, exc)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error; it has been logged."}, status=500)
    return render(request, "500.html", status=500)


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Per person: for each kind of event, e-mail at once / daily digest / none, and chat."""
    modes = dict(NotificationPreference.EMAIL_CHOICES)
    if request.method == "POST":
        choices = {
            kind: (request.POST.get(f"{kind}-email", ""), request.POST.get(f"{kind}-chat") == "on")
            for kind in notifications.KINDS
        }
        try:
            notifications.preferences_set(user=request.user, choices=choices)
        except ValueError as exc:
            return HttpResponse(str(exc), status=400, content_type="text/plain")
        messages.success(request, "Notification settings saved.")
        return redirect("notification-settings")
    rows = []
    for kind, (label, _default) in notifications.KINDS.items():
        email, chat = notifications.preference(request.user, kind)
        rows.append({"kind": kind, "label": label, "email": email, "chat": chat})
    return render(request, "notifications/settings.html", {"rows": rows, "modes": modes})


@require_http_methods(["GET", "POST"])
def token_list(request: HttpRequest) -> HttpResponse:
    """The person's own API tokens: list, create one (its key shown once), revoke."""
    new_key, status = "", 200
    if request.method == "POST":
        try:
            _token, new_key = tokens.token_create(
                user=request.user, by=request.user, name=request.POST.get("name", "").strip()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
    rows = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-pk")[:100]
    now = clock.now()
    return render(
        request,
        "csrisk/tokens.html",
        {
            "rows": [(t, t.state(now)) for t in rows],
            "new_key": new_key,
            "ttl_days": settings.CSRISK_API_TOKEN_TTL_DAYS,
        },
        status=status,
    )


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if tokens.token_revoke(token=token, by=request.user):
        messages.success(request, f"Token {token.prefix}… revoked.")
    return redirect("tokens")


@require_http_methods(["GET", "POST"])
def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The person's calendar address: make one (shown once; it replaces the old one), or
    see that one is live and revoke it."""
    feed_url = ""
    if request.method == "POST":
        _feed, key = calendars.feed_create(user=request.user)
        feed_url = request.build_absolute_uri(reverse("calendar-feed", args=[key]))
    return render(
        request,
        "csrisk/calendar.html",
        {"feed": calendars.live_feed(request.user), "feed_url": feed_url},
    )


@require_POST
def calendar_revoke(request: HttpRequest) -> HttpResponse:
    if calendars.feeds_revoke(user=request.user):
        messages.success(request, "Calendar address revoked: it now answers 404.")
    return redirect("calendar")


@require_GET
@never_cache
def calendar_feed(request: HttpRequest, key: str) -> HttpResponse:
    """The ICS feed a calendar app polls: no session, the key in the address is the
    credential; an unknown or revoked key is a 404 (nothing says which)."""
    user = calendars.feed_user(key)
    if user is None:
        raise Http404("No such calendar.")
    response = HttpResponse(calendars.ics(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="csrisk.ics"'
    return response
