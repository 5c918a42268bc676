"""Who sees which scorecard review."""

from __future__ import annotations

from django.db.models import QuerySet

from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction


def review_csms(user: User) -> QuerySet[User]:
    """The people whose book ``user`` may review 1:1."""
    owners = User.objects.filter(role__in=[Role.CSM, Role.TEAM_LEAD], is_active=True)
    if user.is_org_wide:
        return owners
    if user.role == Role.TEAM_LEAD:
        return owners.filter(team__in=user.led_team_ids())
    if user.role == Role.CSM:
        return owners.filter(pk=user.pk)
    return owners.none()


def review_teams(user: User) -> QuerySet[Team]:
    teams = Team.objects.filter(function=TeamFunction.CS)
    if user.is_org_wide:
        return teams
    if user.role == Role.TEAM_LEAD:
        return teams.filter(pk__in=user.led_team_ids())
    return teams.none()


def can_see_leadership_review(user: User) -> bool:
    return user.is_org_wide or user.role in (Role.TEAM_LEAD, Role.EXECUTIVE)
