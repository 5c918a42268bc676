from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from csrisk.notifications import unread_count
from csrisk.roles import DEPARTMENT_ROLES, EXECUTIVE_ROLES, Role, home_page

NAV = [
    ("cockpit:index", "Cockpit"),
    ("scorecards:review", "Scorecards"),
    ("escalation:list", "Escalations"),
    ("sponsors:program", "Sponsors"),
    ("signals:feed", "Signals"),
    ("summary:index", "Executive summary"),
    ("accounts:list", "Accounts"),
    ("coverage:index", "Data coverage"),
]


# Pages a role would only meet a 403 on are not offered to it: the 1:1 review is for those
# with a book or a team to review; the executive summary is for leadership; data coverage
# for those who answer for a book beyond their own (a CSM may still open /coverage/).
NAV_FOR: dict[str, frozenset[str]] = {
    "scorecards:review": frozenset({Role.CSM, Role.TEAM_LEAD, Role.VP_CS, Role.CEO}),
    "summary:index": EXECUTIVE_ROLES,
    "coverage:index": frozenset({Role.TEAM_LEAD, Role.VP_CS, Role.CEO}),
}


def nav_items_for(user: object) -> list[tuple[str, str]]:
    """The navigation ``user`` may use, their working page first (``roles.home_page``)."""
    superuser = bool(getattr(user, "is_superuser", False))
    role = getattr(user, "role", "")
    items = [n for n in NAV if superuser or n[0] not in NAV_FOR or role in NAV_FOR[n[0]]]
    if role in DEPARTMENT_ROLES:
        # The department's area queue (RACI): where the flagged CTAs of its areas are. The
        # role says so without a query on every page.
        items = [("cockpit:queue", f"{Role(role).label} queue"), *items]
    home = home_page(user)
    return sorted(items, key=lambda n: n[0] != home)


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
    items = nav_items_for(user) if user is not None and user.is_authenticated else []
    return {
        "nav_items": items,
        "nav_current": current,
        "unread_notifications": unread,
        "live_poll_seconds": settings.CSRISK_LIVE_POLL_SECONDS,
    }
