"""Where a flagged CTA goes at level 1 (PRODUCT.md, RACI): the owner's team lead, the team
that owns its area, and every meeting or live queue whose criteria it meets."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from csrisk import clock
from csrisk.models import Team, User
from csrisk.roles import Role
from ctas.choices import CtaType
from ctas.models import Cta
from escalation.choices import MeetingKind
from escalation.models import Meeting
from escalation.services.timeline import person_name
from scorecards.models import Area


def routes_for(
    cta: Cta, *, areas: dict[str, Area] | None = None, meetings: list[Meeting] | None = None
) -> list[dict]:
    """Where a flagged CTA goes at level 1: the owner's team lead, the team owning its area
    (RACI), and every meeting or live queue whose criteria it meets. ``areas`` and
    ``meetings`` may be passed in loaded, for many CTAs at once."""
    routes: list[dict] = []
    owner = cta.owner
    lead = owner.team.lead if owner and owner.team_id and owner.team else None
    if lead is not None and lead.pk != owner.pk:
        routes.append({"kind": "lead", "id": lead.pk, "name": person_name(lead)})
    if areas is None:
        areas = {a.code: a for a in Area.objects.select_related("owning_team")}
    area = areas.get(cta.area) if cta.area else None
    if area is not None:
        team = area.owning_team
        routes.append(
            {
                "kind": "team",
                "id": team.pk if team else None,
                "name": team.name if team else area.get_owning_function_display(),
                "function": area.owning_function,
            }
        )
    if meetings is None:
        meetings = list(Meeting.objects.filter(active=True))
    for meeting in meetings:
        by_renewal = meeting.renewal_window_days is not None and (
            cta.type == CtaType.RENEWAL or _renews_within(cta, meeting.renewal_window_days)
        )
        if cta.area in (meeting.areas or []) or by_renewal:
            routes.append(
                {
                    "kind": "queue" if meeting.kind == MeetingKind.QUEUE else "meeting",
                    "id": meeting.pk,
                    "name": meeting.name,
                    "slug": meeting.slug,
                }
            )
    return routes


def _renews_within(cta: Cta, days: int) -> bool:
    renewal = cta.account.renewal_date
    today = clock.today()
    return renewal is not None and today <= renewal <= today + dt.timedelta(days=days)


def queue_people(meeting: Meeting) -> list[User]:
    """Who a live queue tells at once: its attendees and team, else (RACI) the people of
    the teams whose function owns the queue's areas."""
    people = set(meeting.attendees.filter(is_active=True))
    teams: list[Team] = [meeting.team] if meeting.team_id else []
    if not people and not teams:
        owners = Area.objects.filter(code__in=meeting.areas or [])
        teams = list(
            Team.objects.filter(
                Q(pk__in=owners.exclude(owning_team=None).values("owning_team"))
                | Q(function__in=owners.values("owning_function"))
            )
        )
    for team in teams:
        people |= set(team.members.filter(is_active=True).exclude(role=Role.INTEGRATION))
        if team.lead_id and team.lead.is_active:
            people.add(team.lead)
    return sorted(people, key=lambda p: p.pk)
