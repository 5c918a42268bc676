"""A CTA's life after it opens: flag, unflag, close, snooze, start, reassign, update, and the
daily wake-up of snoozed ones. Every change is a race-safe conditional UPDATE, audited,
and updates the scorecard at once."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from csrisk import audit, clock, events
from csrisk.models import User
from csrisk.notifications import notify
from ctas.choices import LIVE_STATUSES, Outcome, Priority, Status
from ctas.models import Cta
from ctas.rules import can_assign_to
from ctas.services.common import check_can_work, cta_url, lead_of
from ctas.services.scorecard import sync_scorecard
from scorecards.models import Scorecard


def _transition(
    cta: Cta,
    by: User,
    action: str,
    *,
    allowed: dict[str, Any],
    changes: dict[str, Any],
    reason: str = "",
) -> Cta:
    """Apply ``changes`` only if the row still matches ``allowed`` (race-safe)."""
    check_can_work(by, cta)
    now = clock.now()
    with transaction.atomic():
        moved = Cta.objects.filter(pk=cta.pk, **allowed).update(**changes, updated_at=now)
        if not moved:
            cta.refresh_from_db()
            raise ValidationError(
                f"This CTA cannot be {action} now (it is {cta.status}"
                f"{', flagged' if cta.flagged else ''})."
            )
        before = {k: getattr(cta, k) for k in changes}
        cta.refresh_from_db()
        audit.record(
            actor=by,
            action=f"cta.{action}",
            target=cta,
            account_id=cta.account_id,
            changes={k: (before[k], getattr(cta, k)) for k in changes},
            reason=reason,
        )
        sync_scorecard(cta.account_id, cta.area)
    return cta


@transaction.atomic
def cta_flag(*, cta: Cta, by: User, reason: str) -> Cta:
    """Ask for help: the area turns red, the owner's team lead is told at once, and the
    escalation chain opens at level 1 (escalation's receiver of ``events.cta_flagged``)."""
    if not reason.strip():
        raise ValidationError({"reason": "Say what help you need."})
    cta = _transition(
        cta,
        by,
        "flagged",
        allowed={"flagged": False, "status__in": LIVE_STATUSES},
        changes={
            "flagged": True,
            "flagged_by": by,
            "flagged_at": clock.now(),
            "flag_reason": reason.strip(),
        },
        reason=reason.strip(),
    )
    events.emit(
        events.cta_flagged,
        cta_id=cta.pk,
        by_id=by.pk,
        reason=cta.flag_reason,
        account_id=cta.account_id,
        area=cta.area,
    )
    lead = lead_of(cta.owner)
    # The flag is the one event the owner and the lead hear of: it says the red it causes,
    # and the "turned red" alert leaves them out (alerts.alert_color_change).
    red = Scorecard.objects.filter(account_id=cta.account_id, color="red").exists()
    now_red = f" — {cta.account.name} is now red." if red else ""
    people = {p for p in (lead, cta.owner) if p is not None and p.pk != by.pk}
    for person in people:
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="cta_flagged",
                title=f"{by.get_full_name() or by.username} flagged a CTA on {cta.account.name}",
                body=f"{cta.reason}: {cta.flag_reason}{now_red}",
                url=cta_url(cta),
                dedupe_key=f"cta-flagged:{cta.pk}:{cta.flagged_at:%Y%m%d%H%M%S}:{person.pk}",
            )
        )
    return cta


@transaction.atomic
def cta_unflag(*, cta: Cta, by: User, reason: str = "") -> Cta:
    cta = _transition(
        cta, by, "unflagged", allowed={"flagged": True}, changes={"flagged": False}, reason=reason
    )
    events.emit(events.cta_released, cta_id=cta.pk, by_id=by.pk, reason=reason, closed=False)
    return cta


@transaction.atomic
def cta_close(*, cta: Cta, by: User, outcome: str, note: str = "") -> Cta:
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": f"Use one of {Outcome.values}."})
    cta = _transition(
        cta,
        by,
        "closed",
        allowed={"status__in": LIVE_STATUSES},
        changes={
            "status": Status.CLOSED,
            "outcome": outcome,
            "closed_at": clock.now(),
            "snoozed_until": None,
        },
        reason=note,
    )
    why = f"CTA closed ({cta.get_outcome_display()})" + (f": {note}" if note else "")
    events.emit(events.cta_released, cta_id=cta.pk, by_id=by.pk, reason=why, closed=True)
    return cta


def cta_snooze(*, cta: Cta, by: User, until: dt.date, note: str = "") -> Cta:
    if until <= clock.today():
        raise ValidationError({"until": "Snooze until a day in the future."})
    if until > clock.today() + dt.timedelta(days=90):
        raise ValidationError({"until": "Snooze for at most 90 days."})
    return _transition(
        cta,
        by,
        "snoozed",
        allowed={"status__in": (Status.OPEN, Status.IN_PROGRESS, Status.SNOOZED)},
        changes={"status": Status.SNOOZED, "snoozed_until": until},
        reason=note,
    )


def cta_start(*, cta: Cta, by: User) -> Cta:
    return _transition(
        cta,
        by,
        "started",
        allowed={"status__in": (Status.OPEN, Status.SNOOZED)},
        changes={"status": Status.IN_PROGRESS, "snoozed_until": None},
    )


def cta_reassign(*, cta: Cta, by: User, owner: User, note: str = "") -> Cta:
    if not can_assign_to(by, cta, owner):
        raise PermissionDenied("You may hand this CTA only to someone of its team.")
    cta = _transition(
        cta,
        by,
        "reassigned",
        allowed={"status__in": LIVE_STATUSES},
        changes={"owner": owner},
        reason=note,
    )
    if owner.pk != by.pk:
        transaction.on_commit(
            lambda: notify(
                user=owner,
                kind="cta_assigned",
                title=f"{by.get_full_name() or by.username} gave you a CTA on {cta.account.name}",
                body=cta.reason,
                url=cta_url(cta),
                dedupe_key=f"cta-assigned:{cta.pk}:{owner.pk}:{cta.updated_at:%Y%m%d%H%M%S}",
            )
        )
    return cta


def wake_snoozed() -> int:
    """Snoozed CTAs whose day has come are open again (beat, daily and at start-up)."""
    return Cta.objects.filter(status=Status.SNOOZED, snoozed_until__lte=clock.today()).update(
        status=Status.OPEN, snoozed_until=None, updated_at=clock.now()
    )


def cta_update(*, cta: Cta, by: User, **fields: Any) -> Cta:
    """Change priority, due date or description (owner changes go through cta_reassign)."""
    allowed = {"priority", "due_date", "description"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(f"Unknown CTA fields: {sorted(unknown)}")
    if "priority" in fields and fields["priority"] not in Priority.values:
        raise ValidationError({"priority": f"Use one of {Priority.values}."})
    changed = {k: v for k, v in fields.items() if getattr(cta, k) != v}
    if not changed:
        check_can_work(by, cta)
        return cta
    return _transition(cta, by, "updated", allowed={"status__in": LIVE_STATUSES}, changes=changed)
