"""The sweeper (beat, every few minutes): open what a lost event left unopened, remind a
level that missed its deadline, move up the ones configured to, refresh suggestions."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from csrisk import clock
from csrisk.notifications import notify
from ctas.choices import LIVE_STATUSES
from ctas.models import Cta
from escalation import rules
from escalation.choices import EscalationStatus, StepAction
from escalation.models import Escalation
from escalation.services.levels import escalation_escalate
from escalation.services.opening import escalation_open
from escalation.services.suggestions import suggestions_refresh
from escalation.services.timeline import TOP, escalation_url, record_step

SUGGESTION_RECHECK = dt.timedelta(hours=1)
SWEEP_BATCH = 500


def sweep() -> dict[str, int]:
    """Every few minutes: open what a lost event left unopened, remind levels that missed
    their deadline, move up the ones configured to, refresh suggestions. Idempotent."""
    counts = {"opened": 0, "reminded": 0, "auto_escalated": 0, "suggested": 0}
    for cta in Cta.objects.filter(flagged=True, status__in=LIVE_STATUSES).exclude(
        escalations__status=EscalationStatus.OPEN
    ):
        escalation_open(cta=cta, by=None, reason=cta.flag_reason or cta.reason)
        counts["opened"] += 1
    now = clock.now()
    config = rules.levels()
    late = Escalation.objects.filter(
        status=EscalationStatus.OPEN, acknowledged_at__isnull=True, deadline_at__lt=now
    ).select_related("cta__owner__team__lead", "cta__account", "account")
    for escalation in late:
        after = (
            config[escalation.level].escalate_after_business_days
            if escalation.level in config
            else None
        )
        if (
            after is not None
            and escalation.level < TOP
            and clock.add_business_days(escalation.deadline_at, float(after)) <= now
        ):
            if _auto_escalate(escalation):
                counts["auto_escalated"] += 1
        elif escalation.reminded_at is None and _remind(escalation):
            counts["reminded"] += 1
    # Suggestions follow the data (a habits score turning red, a renewal coming closer):
    # look again at each open escalation hourly, a bounded batch per sweep.
    stale = Q(checked_at__isnull=True) | Q(checked_at__lt=now - SUGGESTION_RECHECK)
    for escalation in (
        Escalation.objects.filter(stale, status=EscalationStatus.OPEN, level__lt=TOP)
        .select_related("cta", "account")
        .order_by("checked_at", "pk")[:SWEEP_BATCH]
    ):
        counts["suggested"] += len(suggestions_refresh(escalation))
    return counts


@transaction.atomic
def _remind(escalation: Escalation) -> bool:
    claimed = Escalation.objects.filter(
        pk=escalation.pk, reminded_at__isnull=True, acknowledged_at__isnull=True
    ).update(reminded_at=clock.now())
    if not claimed:
        return False
    cta = escalation.cta
    record_step(
        escalation,
        None,
        StepAction.REMINDED,
        reason=f"Not acknowledged at level {escalation.level} by "
        f"{escalation.deadline_at:%b %d %H:%M}.",
    )
    for person in rules.level_people(escalation.level, cta):
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="escalation_reminder",
                title=f"Waiting for you (level {escalation.level}): {cta.account.name}",
                body=f"{cta.reason} — {escalation.reason}",
                url=escalation_url(escalation),
                dedupe_key=f"esc-remind:{escalation.pk}:{escalation.level}:"
                f"{escalation.level_since:%Y%m%d%H%M%S}:{person.pk}",
            )
        )
    return True


def _auto_escalate(escalation: Escalation) -> bool:
    try:
        escalation_escalate(
            escalation=escalation,
            by=None,
            level=escalation.level + 1,
            reason=f"Level {escalation.level} did not acknowledge by "
            f"{escalation.deadline_at:%b %d %H:%M}.",
            automatic=True,
        )
    except ValidationError:  # resolved or moved meanwhile
        return False
    return True
