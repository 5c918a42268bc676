from __future__ import annotations

from django.http import HttpRequest

NAV = [
    ("cockpit", "Cockpit"),
    ("scorecards:review", "Scorecards"),
    ("escalations", "Escalations"),
    ("sponsors", "Sponsors"),
    ("signals", "Signals"),
    ("summary", "Executive summary"),
    ("accounts:list", "Accounts"),
]


def navigation(request: HttpRequest) -> dict[str, object]:
    match = getattr(request, "resolver_match", None)
    current = match.view_name if match else ""
    if current.startswith("scorecards:"):
        current = "scorecards:review"
    return {"nav_items": NAV, "nav_current": current}
