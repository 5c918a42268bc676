"""RACI: which team owns which risk area (PRODUCT.md, "The eight risk areas").

An area names its owning team (``Area.owning_team``) or, when none is named, its owning
function (every team of that function owns it). The CS-owned areas (habits, sentiment,
company) are reviewed through the CTA owner's own line — their team lead and the CS team
meeting — so only the other departments (Support, Services, Readiness, Product,
Engineering) get an area queue: telling every CS team about every habits flag would be
noise, and it would let one CS team work another's CTAs.
"""

from __future__ import annotations

from django.db.models import Q

from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction
from scorecards.models import Area

# Functions whose teams review through the CS line, not an area queue (see above).
NOT_DEPARTMENTS = frozenset({TeamFunction.CS, TeamFunction.LEADERSHIP})


def area_teams(code: str) -> list[Team]:
    """The department teams that own area ``code`` (none for CS areas)."""
    area = Area.objects.select_related("owning_team").filter(code=code).first()
    if area is None:
        return []
    if area.owning_team is not None:
        teams = [area.owning_team]
    else:
        teams = list(Team.objects.filter(function=area.owning_function).order_by("pk"))
    return [t for t in teams if t.function not in NOT_DEPARTMENTS]


def area_team_people(code: str) -> list[User]:
    """Who is told of a flagged CTA in area ``code``: its owning teams' active people."""
    teams = area_teams(code)
    if not teams:
        return []
    return list(
        User.objects.filter(Q(team__in=teams) | Q(led_teams__in=teams), is_active=True)
        .exclude(role=Role.INTEGRATION)
        .distinct()
        .order_by("pk")
    )


def team_areas(team: Team | None) -> list[str]:
    """The area codes a department team owns (named, or by its function)."""
    if team is None or team.function in NOT_DEPARTMENTS:
        return []
    return list(
        Area.objects.filter(
            Q(owning_team=team) | Q(owning_team__isnull=True, owning_function=team.function)
        )
        .order_by("code")
        .values_list("code", flat=True)
    )


def user_areas(user: User) -> list[str]:
    """The areas ``user``'s team owns, read once per user object (a page asks per row)."""
    cached = getattr(user, "_csrisk_team_areas", None)
    if cached is None:
        team = user.team if user.is_authenticated and user.team_id else None
        cached = team_areas(team)
        user._csrisk_team_areas = cached
    return cached
