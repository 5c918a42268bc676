"""The sponsor program's part of a person's calendar feed (csrisk.calendars): the
check-ins they are due to hold and have not logged yet."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse

from csrisk.calendars import Item
from csrisk.models import User
from sponsors.models import CheckIn


def checkins_due(user: User, first: dt.date, last: dt.date) -> Iterator[Item]:
    checkins = (
        CheckIn.objects.filter(
            sponsorship__sponsor=user,
            logged_at__isnull=True,
            due_date__gte=first,
            due_date__lte=last,
        )
        .select_related("account")
        .order_by("due_date", "pk")
    )
    for checkin in checkins:
        yield Item(
            uid=f"checkin-{checkin.pk}",
            summary=f"Sponsor check-in due: {checkin.account.name}",
            day=checkin.due_date,
            description=f"A 30-minute call with {checkin.account.name}'s executive, "
            f"from {checkin.slot_start:%b %d} to {checkin.due_date:%b %d}.",
            url=reverse("cockpit:cta", args=[checkin.cta_id]),
            categories=["Sponsor check-in"],
        )
