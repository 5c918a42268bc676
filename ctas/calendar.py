"""The cockpit's part of a person's calendar feed (csrisk.calendars): their live CTAs' due
dates. Sponsor check-ins are the sponsors app's items, so they are left out here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.urls import reverse

from csrisk.calendars import Item
from csrisk.models import User
from ctas.choices import LIVE_STATUSES, CtaType
from ctas.models import Cta


def cta_due_dates(user: User, first: dt.date, last: dt.date) -> Iterator[Item]:
    ctas = (
        Cta.objects.filter(
            owner=user, status__in=LIVE_STATUSES, due_date__gte=first, due_date__lte=last
        )
        .exclude(type=CtaType.SPONSOR_CHECKIN)
        .select_related("account")
        .order_by("due_date", "pk")
    )
    for cta in ctas:
        flag = " (flagged)" if cta.flagged else ""
        yield Item(
            uid=f"cta-{cta.pk}",
            summary=f"CTA due: {cta.account.name} — {cta.reason}{flag}",
            day=cta.due_date,
            description=f"{cta.get_type_display()}, {cta.get_priority_display()} priority, "
            f"{cta.get_status_display().lower()}.",
            url=reverse("cockpit:cta", args=[cta.pk]),
            categories=["CTA"],
        )
