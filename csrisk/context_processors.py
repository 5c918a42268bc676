from __future__ import annotations

from django.http import HttpRequest

from csrisk.notifications import unread_count
from csrisk.roles import EXECUTIVE_ROLES, Role

NAV = [
    ("cockpit:index", "Cockpit"),
    ("scorecards:review", "Scorecards"),
    ("escalation:list", "Escalations"),
    ("sponsors:program", "Sponsors"),
    ("signals:feed", "Signals"),
    ("summary:index", "Executive summary"),
    ("accounts:list", "Accounts"),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    if current.startswith("scorecards:"):
        current = "scorecards:review"
    elif current.startswith("cockpit:"):
        current = "cockpit:index"
    elif current.startswith("escalation:"):
        current = "escalation:list"
    elif current.startswith("sponsors:"):
        current = "sponsors:program"
    elif current.startswith("summary:"):
        current = "summary:index"
    elif current.startswith("coverage:"):
        current = "coverage:index"
    # Panels render with the request too; count once per request, not once per template.
    unread = getattr(request, "_csrisk_unread", None)
    if unread is None:
        unread = 0
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_integration:
            unread = unread_count(user)
        request._csrisk_unread = unread
    user = getattr(request, "user", None)
    leadership = bool(user and (user.is_superuser or getattr(user, "role", "") in EXECUTIVE_ROLES))
    # The executive summary is for leadership; others would only meet a 403 there.
    items = NAV if leadership else [n for n in NAV if n[0] != "summary:index"]
    # Data coverage: for those who answer for a book beyond their own (a CSM may still open
    # /coverage/ for theirs).
    if (
        user is not None
        and user.is_authenticated
        and (user.is_org_wide or getattr(user, "role", "") == Role.TEAM_LEAD)
    ):
        items = [*items, ("coverage:index", "Data coverage")]
    return {"nav_items": items, "nav_current": current, "unread_notifications": unread}
