from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from csrisk import sso_views, views
from csrisk.api.router import router
from csrisk.permissions import IsIntegrationOrStaff

# Pages announced in the navigation but not built yet ("coming soon").
LATER: dict[str, tuple[str, str]] = {}

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    # Prometheus: a bearer token or a staff user, else 404 (docs/operations.md).
    path("metrics", views.metrics_view, name="metrics"),
    path("login/", sso_views.LoginView.as_view(), name="login"),
    path("logout/", sso_views.LogoutView.as_view(), name="logout"),
    # Single sign-on (docs/sso.md): 404 unless configured.
    path("sso/login/", sso_views.SsoStartView.as_view(), name="sso-login"),
    path("sso/callback/", sso_views.SsoCallbackView.as_view(), name="sso-callback"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/bell/", views.notification_bell, name="notifications-bell"),
    path("notifications/read/", views.notification_read, name="notifications-read"),
    path("notifications/settings/", views.notification_settings, name="notification-settings"),
    path("tokens/", views.token_list, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke-page"),
    path("calendar/", views.calendar_settings, name="calendar"),
    path("calendar/revoke/", views.calendar_revoke, name="calendar-revoke"),
    # No session: the key in the address is the credential (csrisk.calendars).
    path("calendar/feed/<str:key>.ics", views.calendar_feed, name="calendar-feed"),
    path("accounts/", include("accounts.urls")),
    path("coverage/", include("accounts.coverage_urls")),
    path("scorecards/", include("scorecards.urls")),
    path("cockpit/", include("ctas.urls")),
    path("escalations/", include("escalation.urls")),
    path("sponsors/", include("sponsors.urls")),
    path("admin/", admin.site.urls),
    path("signals/segments/", include("insights.segment_urls")),
    path("signals/", include("signals.urls")),
    path("summary/", include("insights.urls")),
    path("api/v1/", include("signals.api.urls")),
    path("api/v1/", include("insights.api.urls")),
    path("api/v1/", include(router.urls)),
    # Any other /api/ address answers JSON, also with DEBUG on (no HTML 404 for clients).
    # No `$`: a prefix, so a path with a newline or any other oddity still gets JSON.
    re_path(r"^api/(?!schema/|docs/)", views.api_not_found),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(permission_classes=[IsIntegrationOrStaff]),
        name="schema",
    ),
    # The split view loads its set-up script from /api/docs/?script instead of inline, so
    # the docs run under the Content-Security-Policy (issue 19).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    *[
        path(f"{slug}/", views.coming_soon, {"title": title, "issue": issue}, name=slug)
        for slug, (title, issue) in LATER.items()
    ],
]

handler400 = "csrisk.views.bad_request"
handler403 = "csrisk.views.forbidden"
handler404 = "csrisk.views.not_found"
handler500 = "csrisk.views.server_error"
