"""Escalation's part of a person's calendar feed (csrisk.calendars): the weekly review
meetings they sit in (as an attendee or through the team that runs it), as all-day
weekly events linking to the agenda (a meeting has a weekday, not a time)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Q
from django.urls import reverse

from csrisk.calendars import Item
from csrisk.models import User
from escalation.choices import MeetingKind
from escalation.models import Meeting

# A fixed Monday the weekly series start from, so a meeting's first date (and its UID's
# event) is the same on every fetch.
ANCHOR = dt.date(2024, 1, 1)


def meetings_attended(user: User, first: dt.date, last: dt.date) -> Iterator[Item]:
    sits_in = Q(attendees=user) | (Q(team_id=user.team_id) if user.team_id else Q(pk__in=[]))
    meetings = (
        Meeting.objects.filter(sits_in, kind=MeetingKind.MEETING, active=True)
        .exclude(weekday=None)
        .distinct()
        .order_by("position", "pk")
    )
    for meeting in meetings:
        yield Item(
            uid=f"meeting-{meeting.pk}",
            summary=meeting.name,
            day=ANCHOR + dt.timedelta(days=meeting.weekday),
            description=meeting.description or "Weekly review; the agenda is in csrisk.",
            url=reverse("escalation:agenda", args=[meeting.slug]),
            weekly=True,
            categories=["Meeting"],
        )
