"""The demo's sponsor program: the running half-year and the next one prepared, sponsor
profiles, assignments within capacity (prior relationships first, as a lead would), this
period's check-ins — one of exec1's due now, one overdue — and the leads' assign tasks."""

from __future__ import annotations

import datetime as dt
import random

from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import PriorRelationship
from csrisk import clock
from csrisk.models import User
from sponsors import selectors, services
from sponsors.models import CheckIn, Program, SponsorProfile

ATTEMPTS = 150  # assignments tried, biggest accounts first; capacity stops most of a big book
INDUSTRIES = ["Software", "Banking", "Insurance", "Retail", "Manufacturing", "Healthcare"]


def half_year(day: dt.date) -> tuple[str, dt.date, dt.date]:
    if day.month <= 6:
        return f"H1 {day.year}", dt.date(day.year, 1, 1), dt.date(day.year, 6, 30)
    return f"H2 {day.year}", dt.date(day.year, 7, 1), dt.date(day.year, 12, 31)


def build_demo_sponsors(*, seed: int, full: bool = True) -> dict[str, int]:
    rng = random.Random(seed)
    today = clock.today()
    name, start, end = half_year(today)
    program, _ = Program.objects.get_or_create(
        name=name, defaults={"starts_on": start, "ends_on": end}
    )
    next_name, next_start, next_end = half_year(end + dt.timedelta(days=1))
    Program.objects.get_or_create(
        name=next_name, defaults={"starts_on": next_start, "ends_on": next_end}
    )
    # The admin login is a superuser for the demo, not a sponsor.
    admin = User.objects.filter(username="admin").first()
    if admin is not None:
        SponsorProfile.objects.update_or_create(user=admin, defaults={"active": False})
    for user in selectors.sponsors():
        SponsorProfile.objects.get_or_create(
            user=user,
            defaults={
                "segments": rng.sample(["mid_market", "enterprise", "strategic"], 1),
                "industries": rng.sample(INDUSTRIES, 2),
            },
        )
    vp = User.objects.filter(username="vp").first()
    if vp is None:
        return {"sponsored": 0, "checkins": 0}
    ties = {
        r.account_id: r.person
        for r in PriorRelationship.objects.filter(person__in=selectors.sponsors())
    }
    exec1 = User.objects.filter(username="exec1").first()
    sponsored = 0
    accounts = list(selectors.eligible(program).select_related("owner").order_by("-arr")[:ATTEMPTS])
    # exec1 first gets two strategic accounts of csm1's book, so the demo has their story
    story = [
        a for a in accounts if a.tier == "strategic" and a.owner and a.owner.username == "csm1"
    ]
    loads = selectors.loads(program)
    people = list(selectors.sponsors())
    for account in story[:2] + [a for a in accounts if a not in story[:2]]:
        cost = program.calls_per_week(account.tier)
        if exec1 is not None and account in story[:2]:
            ranked = [exec1]
        else:
            ranked = [
                c.sponsor
                for c in selectors.candidates(
                    account, program, limit=len(people), all_loads=loads, people=people
                )
            ]
        # as a lead would: the best-ranked candidate who still has room
        sponsor = next(
            (
                p
                for p in ranked
                if p.pk in loads and loads[p.pk].calls + cost <= loads[p.pk].capacity
            ),
            None,
        )
        if sponsor is None:
            continue
        try:
            services.sponsorship_assign(
                account=account,
                sponsor=sponsor,
                by=vp,
                reason="Prior relationship" if ties.get(account.pk) == sponsor else "",
                program=program,
            )
        except (ValidationError, PermissionDenied):
            continue
        loads[sponsor.pk].calls += cost
        loads[sponsor.pk].accounts.append(account)
        sponsored += 1
    checkins = services.checkins_create_due(today)
    _overdue_story(program, exec1, today)
    services.checkins_chase_overdue(today)
    if full:
        services.eligibility_check()
    return {"sponsored": sponsored, "checkins": checkins}


def _overdue_story(program: Program, exec1: User | None, today: dt.date) -> None:
    """exec1 missed the previous slot's check-in on one account: it shows as overdue."""
    if exec1 is None:
        return
    checkin = (
        CheckIn.objects.filter(cta__owner=exec1, program=program, slot__gt=0)
        .select_related("sponsorship", "account")
        .order_by("pk")
        .last()
    )
    if checkin is None:
        return
    services.checkin_create(
        sponsorship=checkin.sponsorship, program=program, index=checkin.slot - 1
    )
