"""Alerts: an overdue CTA, and an account's overall colour turning red or leaving red."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from django.urls import reverse

from accounts.models import Account
from csrisk import clock, events
from csrisk.notifications import Note, notify, notify_many
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


def _told_by_a_flag(account_ids: Collection[int]) -> dict[int, set[int]]:
    """Who hears of each account turning red from the flag that turned it red: its owner, the
    owner's lead and the person who flagged (``cta_flag`` says "is now red"), so each hears of
    one event once. One query for all the accounts."""
    told: dict[int, set[int]] = defaultdict(set)
    for cta in Cta.objects.filter(
        account_id__in=account_ids, flagged=True, flagged_at__gte=clock.now() - FLAG_COVERS
    ).select_related("owner__team__lead"):
        told[cta.account_id] |= {p.pk for p in (cta.owner, lead_of(cta.owner)) if p is not None}
        told[cta.account_id] |= {cta.flagged_by_id} - {None}
    return told


def alert_color_change(
    *, account_id: int, old: str, new: str, reason: str, cause: str = "measures"
) -> int:
    """An account's overall colour turned red, or left red: tell its owner and their lead
    (unless a backfill turned it: history is not news, ``events.is_news``)."""
    return alert_color_changes(
        [{"account_id": account_id, "old": old, "new": new, "reason": reason, "cause": cause}]
    )


def alert_color_changes(changes: Sequence[dict[str, Any]]) -> int:
    """``alert_color_change`` for many overall changes (a recompute's batch): the accounts,
    the flags and the preferences read once, the notifications stored in one insert."""
    changes = [
        c
        for c in changes
        if (c["old"] == "red") != (c["new"] == "red") and events.is_news(c.get("cause", ""))
    ]
    if not changes:
        return 0
    accounts = Account.objects.select_related("owner__team__lead").in_bulk(
        {c["account_id"] for c in changes}
    )
    by_flag = _told_by_a_flag([c["account_id"] for c in changes if c["new"] == "red"])
    stamp = clock.now().strftime("%Y%m%d%H%M")
    notes: list[Note] = []
    for c in changes:
        account = accounts.get(c["account_id"])
        if account is None or account.owner is None:
            continue
        turned_red = c["new"] == "red"
        kind = "scorecard_red" if turned_red else "scorecard_recovered"
        title = (
            f"{account.name} turned red"
            if turned_red
            else f"{account.name} is no longer red ({c['new']})"
        )
        told = by_flag.get(account.pk, set()) if turned_red else set()
        for person in {account.owner, lead_of(account.owner)} - {None}:
            if person.pk in told:
                continue
            notes.append(
                Note(
                    user=person,
                    kind=kind,
                    title=title,
                    body=c.get("reason", ""),
                    url=reverse("accounts:detail", args=[account.pk]),
                    dedupe_key=f"{kind}:{account.pk}:{stamp}",
                )
            )
    return len(notify_many(notes))
