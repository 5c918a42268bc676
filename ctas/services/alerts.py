"""Alerts: an overdue CTA, and an account's overall colour turning red or leaving red."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from accounts.models import Account
from csrisk import clock, events
from csrisk.notifications import notify
from ctas.choices import Status
from ctas.models import Cta
from ctas.services.common import cta_url, lead_of


def alert_overdue() -> int:
    """Tell the owner and their team lead once about each CTA that went past its due date."""
    today = clock.today()
    told = 0
    for cta in Cta.objects.filter(
        status__in=(Status.OPEN, Status.IN_PROGRESS), due_date__lt=today
    ).select_related("account", "owner__team__lead"):
        for person in {cta.owner, lead_of(cta.owner)} - {None}:
            if notify(
                user=person,
                kind="cta_overdue",
                title=f"Overdue CTA on {cta.account.name}: {cta.reason}",
                body=f"Due {cta.due_date:%b %d}; owner {cta.owner}.",
                url=cta_url(cta),
                dedupe_key=f"cta-overdue:{cta.pk}:{cta.due_date}:{person.pk}",
            ):
                told += 1
    return told


# A flag within this long before the account turns red is what turned it red.
FLAG_COVERS = dt.timedelta(minutes=5)


def _told_by_a_flag(account: Account) -> set[int]:
    """Who hears of the account turning red from the flag that turned it red: its owner, the
    owner's lead and the person who flagged (``cta_flag`` says "is now red"), so each hears of
    one event once."""
    told: set[int] = set()
    for cta in Cta.objects.filter(
        account=account, flagged=True, flagged_at__gte=clock.now() - FLAG_COVERS
    ).select_related("owner__team__lead"):
        told |= {p.pk for p in (cta.owner, lead_of(cta.owner)) if p is not None}
        told |= {cta.flagged_by_id} - {None}
    return told


def alert_color_change(
    *, account_id: int, old: str, new: str, reason: str, cause: str = "measures"
) -> int:
    """An account's overall colour turned red, or left red: tell its owner and their lead
    (unless a backfill turned it: history is not news, ``events.is_news``)."""
    if (old == "red") == (new == "red") or not events.is_news(cause):
        return 0
    account = Account.objects.select_related("owner__team__lead").get(pk=account_id)
    if account.owner is None:
        return 0
    turned_red = new == "red"
    kind = "scorecard_red" if turned_red else "scorecard_recovered"
    title = (
        f"{account.name} turned red" if turned_red else f"{account.name} is no longer red ({new})"
    )
    stamp = clock.now().strftime("%Y%m%d%H%M")
    told = 0
    by_flag = _told_by_a_flag(account) if turned_red else set()
    for person in {account.owner, lead_of(account.owner)} - {None}:
        if person.pk in by_flag:
            continue
        if notify(
            user=person,
            kind=kind,
            title=title,
            body=reason,
            url=reverse("accounts:detail", args=[account.pk]),
            dedupe_key=f"{kind}:{account.pk}:{stamp}",
        ):
            told += 1
    return told
