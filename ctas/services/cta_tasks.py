"""A CTA's tasks (its checklist): add, hand over, complete."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError

from csrisk import audit, clock
from csrisk.models import User
from csrisk.validators import control_character_reason
from ctas.models import Cta, CtaTask
from ctas.rules import can_assign_to
from ctas.services.common import check_can_work


def task_complete(*, task: CtaTask, by: User) -> CtaTask:
    check_can_work(by, task.cta)
    done = CtaTask.objects.filter(pk=task.pk, done_at__isnull=True).update(
        done_at=clock.now(), done_by=by
    )
    if not done:
        raise ValidationError("This task is already done.")
    task.refresh_from_db()
    audit.record(
        actor=by,
        action="cta.task_done",
        target=task.cta,
        account_id=task.cta.account_id,
        reason=task.title,
    )
    return task


def task_add(
    *, cta: Cta, by: User, title: str, owner: User | None = None, due_date: dt.date | None = None
) -> CtaTask:
    check_can_work(by, cta)
    if owner is not None and owner != cta.owner and not can_assign_to(by, cta, owner):
        raise PermissionDenied("You may hand this task only to someone of the CTA's team.")
    if not title.strip():
        raise ValidationError({"title": "Name the task."})
    if reason := control_character_reason(title.strip()):
        raise ValidationError({"title": reason})
    position = cta.tasks.order_by("-position").values_list("position", flat=True).first() or 0
    task = CtaTask.objects.create(
        cta=cta,
        title=title.strip()[:200],
        owner=owner or cta.owner,
        position=position + 1,
        due_date=due_date or clock.today() + dt.timedelta(days=7),
    )
    audit.record(
        actor=by, action="cta.task_added", target=cta, account_id=cta.account_id, reason=task.title
    )
    return task


def task_reassign(*, task: CtaTask, by: User, owner: User) -> CtaTask:
    if not can_assign_to(by, task.cta, owner):
        raise PermissionDenied("You may hand this task only to someone of the CTA's team.")
    before = task.owner
    CtaTask.objects.filter(pk=task.pk).update(owner=owner)
    task.refresh_from_db()
    audit.record(
        actor=by,
        action="cta.task_reassigned",
        target=task.cta,
        account_id=task.cta.account_id,
        changes={"task_owner": (before, owner)},
        reason=task.title,
    )
    return task
