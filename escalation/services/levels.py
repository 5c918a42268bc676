"""The chain after level 1: escalate to the VP (2) and the CEO (3), hand it back down,
acknowledge, resolve, release when the CTA is unflagged or closed, and the chatter's
@mentions. The people at the new level are told; every move is a timeline step."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from csrisk import clock
from csrisk.models import User
from ctas import services as cta_services
from ctas.models import Cta
from escalation import rules
from escalation.choices import EscalationStatus, Level, StepAction, SuggestionStatus
from escalation.models import Escalation, EscalationStep, Suggestion
from escalation.services import telling
from escalation.services.timeline import (
    ack_deadline,
    locked,
    person_name,
    record_step,
)


def _notify_level(
    escalation: Escalation, by: User | None, level: int, title: str, body: str
) -> None:
    """Tell everyone involved in a move to ``level`` (``telling``): up to the higher of the
    new level and the one it came from, so a de-escalation still tells the level it left."""
    came_from = (
        EscalationStep.objects.filter(escalation=escalation)
        .order_by("-at", "-pk")
        .values_list("from_level", flat=True)
        .first()
    )
    telling.tell(
        escalation,
        by,
        kind="escalated",
        event=f"escalated:{level}:{clock.now():%Y%m%d%H%M%S}",
        up_to=max(level, came_from or 0),
        title=title,
        body=body,
    )


def _move_to(
    escalation: Escalation, level: int, now: dt.datetime, *, acknowledged_by: User | None
) -> None:
    """Put a locked, open escalation at ``level`` from ``now``: a new acknowledgement
    deadline there, no reminder sent yet; acknowledged already by ``acknowledged_by`` (a
    hand-down) or waiting for the people at ``level`` (None: a move up)."""
    escalation.level = level
    escalation.level_since = now
    escalation.deadline_at = ack_deadline(level, now, rules.levels())
    escalation.acknowledged_at = now if acknowledged_by is not None else None
    escalation.acknowledged_by = acknowledged_by
    escalation.reminded_at = None
    escalation.save()


@transaction.atomic
def escalation_escalate(
    *,
    escalation: Escalation,
    by: User | None,
    level: int,
    reason: str,
    automatic: bool = False,
) -> Escalation:
    """Move an open escalation up to ``level``; the people there are told at once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it needs to go higher."})
    if level not in Level.values:
        raise ValidationError({"level": f"Use one of {Level.values}."})
    escalation = locked(escalation)
    if not escalation.is_open:
        raise ValidationError("This escalation is resolved; flag the CTA again to reopen.")
    if level <= escalation.level:
        raise ValidationError({"level": f"It is at level {escalation.level} already."})
    if by is not None and not rules.can_escalate(by, escalation, level):
        allowed = rules.max_level_for(by)
        raise PermissionDenied(
            rules.raised_by_sentence(level, allowed)
            if level > allowed
            else "You may not escalate this CTA: it is not yours, your team's or at your level."
        )
    before, now = escalation.level, clock.now()
    _move_to(escalation, level, now, acknowledged_by=None)
    Suggestion.objects.filter(
        escalation=escalation, status=SuggestionStatus.OPEN, level__lte=level
    ).update(status=SuggestionStatus.OVERTAKEN, decided_at=now)
    action = StepAction.AUTO_ESCALATED if automatic else StepAction.ESCALATED
    record_step(escalation, by, action, from_level=before, to_level=level, reason=reason)
    cta = escalation.cta
    _notify_level(
        escalation,
        by,
        level,
        f"Escalated to level {level}: {cta.account.name} — {cta.reason}",
        f"{person_name(by)}: {reason}",
    )
    return escalation


@transaction.atomic
def escalation_de_escalate(
    *, escalation: Escalation, by: User, level: int, reason: str
) -> Escalation:
    """Hand an escalation back down (the level above has done what it can)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it can go back down."})
    escalation = locked(escalation)
    if not rules.can_de_escalate(by, escalation):
        raise PermissionDenied("Only the people at this level (or the VP and CEO) hand it down.")
    if level not in Level.values or level >= escalation.level:
        raise ValidationError({"level": f"Choose a level below {escalation.level}."})
    before, now = escalation.level, clock.now()
    # The level it returns to knows the case: it needs no new acknowledgement deadline.
    _move_to(escalation, level, now, acknowledged_by=by)
    record_step(
        escalation, by, StepAction.DE_ESCALATED, from_level=before, to_level=level, reason=reason
    )
    cta = escalation.cta
    _notify_level(
        escalation,
        by,
        level,
        f"Back to level {level}: {cta.account.name} — {cta.reason}",
        f"{person_name(by)}: {reason}",
    )
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, by: User, note: str = "") -> Escalation:
    """The current level has seen it: the deadline stops, no reminder, no automatic move."""
    escalation = locked(escalation)
    if not escalation.is_open:
        raise ValidationError("This escalation is resolved.")
    if escalation.acknowledged_at is not None:
        raise ValidationError(
            f"Already acknowledged by {person_name(escalation.acknowledged_by)} at level "
            f"{escalation.level}."
        )
    if not rules.can_acknowledge(by, escalation):
        raise PermissionDenied(f"Only the people at level {escalation.level} acknowledge it.")
    escalation.acknowledged_at = clock.now()
    escalation.acknowledged_by = by
    escalation.save(update_fields=["acknowledged_at", "acknowledged_by"])
    note = note.strip()[:1000]
    step = record_step(escalation, by, StepAction.ACKNOWLEDGED, reason=note)
    cta = escalation.cta
    telling.tell(
        escalation,
        by,
        kind="escalation_acknowledged",
        event=f"acknowledged:{step.pk}",
        up_to=escalation.level,
        title=f"Level {escalation.level} acknowledged: {cta.account.name} — {cta.reason}",
        body=f"{person_name(by)}: {note}" if note else f"{person_name(by)} has it.",
    )
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, by: User, reason: str) -> Escalation:
    """Done: the escalation closes and the CTA is unflagged (its area is no longer forced
    red; an open manual risk CTA still holds it yellow)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say how it was resolved."})
    escalation = locked(escalation)
    if not rules.can_resolve(by, escalation):
        raise PermissionDenied("Whoever works this CTA (owner, team lead, VP, CEO) resolves it.")
    _close(escalation, by, reason)
    cta = escalation.cta
    if cta.flagged:
        cta_services.cta_unflag(cta=cta, by=by, reason=f"Escalation resolved: {reason}")
    return escalation


def _close(escalation: Escalation, by: User | None, reason: str) -> None:
    escalation.status = EscalationStatus.RESOLVED
    escalation.resolved_at = clock.now()
    escalation.resolved_by = by
    escalation.resolution = reason
    escalation.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    Suggestion.objects.filter(escalation=escalation, status=SuggestionStatus.OPEN).delete()
    step = record_step(
        escalation, by, StepAction.RESOLVED, from_level=escalation.level, reason=reason
    )
    # Resolving by closing or unflagging the CTA is no quieter than resolving it here: the
    # levels it reached hear that it is over, and why.
    cta = escalation.cta
    telling.tell(
        escalation,
        by,
        kind="escalation_resolved",
        event=f"resolved:{step.pk}",
        up_to=escalation.level,
        title=f"Resolved at level {escalation.level}: {cta.account.name} — {cta.reason}",
        body=f"{person_name(by)}: {reason}",
    )


@transaction.atomic
def escalation_release(*, cta: Cta, by: User | None, reason: str) -> Escalation | None:
    """The CTA was unflagged or closed: its open escalation (if any) is resolved."""
    escalation = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if escalation is None:
        return None
    escalation = locked(escalation)
    _close(escalation, by, reason or "CTA unflagged")
    return escalation


def escalation_commented(*, cta: Cta, by: User, body: str, mentioned: list[User]) -> None:
    """A comment on an escalated CTA is on its timeline; an @mention of someone who sits at
    a higher level escalates to that level ("escalate to me by mentioning me") — as far
    as the author may escalate."""
    escalation = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if escalation is None:
        return
    record_step(escalation, by, StepAction.COMMENTED, reason=body[:500])
    if not mentioned:
        return
    config = rules.levels()
    target = max((rules.level_of(p, cta, config) for p in mentioned), default=0)
    target = min(target, rules.max_level_for(by, config))
    if target > escalation.level and rules.can_escalate(by, escalation, target):
        names = ", ".join(f"@{p.username}" for p in mentioned)
        escalation_escalate(
            escalation=escalation,
            by=by,
            level=target,
            reason=f"Mentioned {names} in the chatter: {body[:200]}",
        )
