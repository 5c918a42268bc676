"""Playbooks: the tasks a playbook's steps make for a CTA."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from csrisk import clock
from csrisk.roles import Role
from ctas.models import Cta, CtaTask, Playbook, PlaybookStep
from ctas.services.common import lead_of


def playbook_apply(*, cta: Cta, playbook: Playbook) -> list[CtaTask]:
    """Create the playbook's tasks on the CTA, owners by role and due dates by offset."""
    tasks = playbook_tasks(cta, list(playbook.steps.all()))
    CtaTask.objects.bulk_create(tasks)
    if cta.playbook_id != playbook.pk:
        Cta.objects.filter(pk=cta.pk).update(playbook=playbook)
    return tasks


def playbooks_apply(ctas: Sequence[Cta]) -> list[CtaTask]:
    """The tasks of each new CTA's own playbook, for many CTAs at once (a batch of rule CTAs):
    each playbook's steps read once, every task stored in one insert."""
    ids = {c.playbook_id for c in ctas if c.playbook_id}
    steps: dict[int, list[PlaybookStep]] = {pk: [] for pk in ids}
    for step in PlaybookStep.objects.filter(playbook_id__in=ids):
        steps[step.playbook_id].append(step)
    tasks = [t for c in ctas if c.playbook_id for t in playbook_tasks(c, steps[c.playbook_id])]
    return CtaTask.objects.bulk_create(tasks, batch_size=1000)


def playbook_tasks(cta: Cta, steps: list[PlaybookStep]) -> list[CtaTask]:
    """The (unsaved) tasks a playbook's steps make for a CTA; skips steps below their ARR."""
    today = clock.today()
    tasks = []
    for step in steps:
        if step.min_arr is not None and cta.account.arr < step.min_arr:
            continue
        owner = cta.owner
        if step.owner_role == Role.TEAM_LEAD:
            owner = lead_of(cta.owner) or cta.owner
        tasks.append(
            CtaTask(
                cta=cta,
                position=step.position,
                title=step.title,
                guidance=step.guidance,
                owner=owner,
                due_date=today + dt.timedelta(days=step.due_offset_days),
            )
        )
    return tasks
