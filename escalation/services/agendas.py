"""Meeting agendas: what the room decided about an item, on the record and, for an open
escalation, on its timeline."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.db import transaction

from csrisk import audit, clock
from csrisk.models import User
from escalation import rules
from escalation.choices import StepAction
from escalation.models import AgendaReview, Meeting
from escalation.selectors import AgendaItem
from escalation.services.timeline import record_step


@transaction.atomic
def agenda_review(
    *, meeting: Meeting, date: dt.date, item: AgendaItem, by: User, outcome: str, next_step: str
) -> AgendaReview:
    """Record what the room decided about one item (again: the last word counts)."""
    if not rules.can_review_agenda(by, meeting):
        raise PermissionDenied("Only the people in this meeting record its outcomes.")
    review, _ = AgendaReview.objects.update_or_create(
        meeting=meeting,
        date=date,
        item_key=item.key,
        defaults={
            "account": item.account,
            "cta": item.cta,
            "outcome": outcome.strip(),
            "next_step": next_step.strip(),
            "reviewed_by": by,
            "reviewed_at": clock.now(),
        },
    )
    audit.record(
        actor=by,
        action="agenda.reviewed",
        target=review,
        account_id=item.account.pk,
        changes={"outcome": (None, review.outcome), "next_step": (None, review.next_step)},
        reason=f"{meeting.name} {date:%Y-%m-%d}",
    )
    if item.escalation is not None and item.escalation.is_open:
        record_step(
            item.escalation,
            by,
            StepAction.COMMENTED,
            reason=f"{meeting.name} ({date:%b %d}): {review.outcome}"
            + (f" Next: {review.next_step}" if review.next_step else ""),
        )
    return review
