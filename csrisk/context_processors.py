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

# People of the departments that own risk areas (RACI) get their area queue in the menu;
# the role says so without a query on every page.
DEPARTMENT_ROLES = frozenset(
    {Role.SUPPORT, Role.SERVICES, Role.READINESS, Role.PRODUCT, Role.ENGINEERING}
)


def navigation(request: HttpRequest) -> dict[str, object]:
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    if current.startswith("scorecards:"):
        current = "scorecards:review"
    elif current.startswith("cockpit:") and current != "cockpit:queue":
        current = "cockpit:index"
    elif current.startswith("escalation:"):
        current = "escalation:list"
    elif current.startswith("sponsors:"):
        current = "sponsors:program"
    elif current.startswith("summary:"):
        current = "summary:index"
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
    role = getattr(user, "role", "")
    if role in DEPARTMENT_ROLES:
        # The department's area queue (RACI) first: it is where their flagged CTAs are.
        items = [("cockpit:queue", f"{Role(role).label} queue"), *items]
    return {"nav_items": items, "nav_current": current, "unread_notifications": unread}
