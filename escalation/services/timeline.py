"""What every step of an escalation shares: its timeline row and audit entry
(``record_step``), its deadline, its link and the row lock its writes take."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse

from csrisk import audit, clock, events
from csrisk.models import User
from escalation.choices import Level
from escalation.models import Escalation, EscalationLevel, EscalationStep

TOP = max(Level.values)


def escalation_url(escalation: Escalation) -> str:
    """Where a notification about it links: the CTA's cockpit page, escalation panel."""
    return reverse("cockpit:cta", args=[escalation.cta_id]) + "#escalation"


def person_name(user: User | None) -> str:
    """How a step names its actor; nobody (``None``) is csrisk itself."""
    return (user.get_full_name() or user.username) if user else "csrisk"


def ack_deadline(level: int, start: dt.datetime, config: dict[int, EscalationLevel]) -> dt.datetime:
    """When ``level`` must acknowledge by, counted in business days from ``start``."""
    days = config[level].ack_business_days if level in config else Decimal(1)
    return clock.add_business_days(start, float(days))


def record_step(
    escalation: Escalation,
    by: User | None,
    action: str,
    *,
    from_level: int | None = None,
    to_level: int | None = None,
    reason: str = "",
) -> EscalationStep:
    step = EscalationStep.objects.create(
        escalation=escalation,
        at=clock.now(),
        by=by if by and by.pk else None,
        action=action,
        from_level=from_level,
        to_level=to_level,
        reason=reason,
    )
    audit.record(
        actor=by,
        action=f"escalation.{action}",
        target=escalation,
        account_id=escalation.account_id,
        changes={"level": (from_level, to_level)} if to_level is not None else {},
        reason=reason,
    )
    # Inside the step's transaction: what receivers write (an outbound webhook's delivery
    # row) commits or rolls back with the step.
    events.emit(
        events.escalation_step,
        escalation_id=escalation.pk,
        cta_id=escalation.cta_id,
        account_id=escalation.account_id,
        action=action,
        from_level=from_level,
        to_level=to_level,
        level=escalation.level,
        reason=reason,
        by_id=step.by_id,
        at=step.at,
    )
    return step


def locked(escalation: Escalation) -> Escalation:
    """The escalation re-read under a row lock (call inside a transaction)."""
    return (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("cta__owner__team__lead", "cta__account", "account")
        .get(pk=escalation.pk)
    )
