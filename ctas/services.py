"""Writes for CTAs. Every state change is race-safe (a conditional UPDATE), audited, and
updates the account's scorecard at once through ``scorecards.services.cta_pressure_set``."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import audit, clock, events
from csrisk.models import User
from csrisk.notifications import notify
from csrisk.roles import Role
from csrisk.validators import control_character_reason
from ctas.choices import LIVE_STATUSES, CtaType, Outcome, Priority, Source, Status
from ctas.models import Comment, Cta, CtaTask, Playbook, PlaybookStep
from ctas.rules import can_assign, can_assign_to, can_work_cta
from scorecards.choices import AreaCode
from scorecards.services import cta_pressures_set

DUE_DAYS = {Priority.URGENT: 1, Priority.HIGH: 3, Priority.MEDIUM: 7, Priority.LOW: 14}
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+)")


def _url(cta: Cta) -> str:
    return reverse("cockpit:cta", args=[cta.pk])


def sync_scorecard(account_id: int, area: str) -> None:
    """Tell scorecards which live CTAs hold this area (see sync_scorecards)."""
    if area:
        sync_scorecards([(account_id, area)])


def sync_scorecards(pairs: list[tuple[int, str]]) -> None:
    """For each (account, area): flagged live CTA → red, open manual risk CTA → yellow,
    none → released (the measures speak again). One query, one recompute per account."""
    pairs = sorted({p for p in pairs if p[1]})
    if not pairs:
        return
    live: dict[tuple[int, str], list[Cta]] = {p: [] for p in pairs}
    for c in (
        Cta.objects.filter(account_id__in={a for a, _ in pairs}, status__in=LIVE_STATUSES)
        .exclude(area="")
        .order_by("pk")
        .only("pk", "account_id", "area", "reason", "flagged", "flag_reason", "type", "source")
    ):
        if (c.account_id, c.area) in live:
            live[(c.account_id, c.area)].append(c)
    pressures = []
    for (account_id, area), ctas in live.items():
        flagged = [c for c in ctas if c.flagged]
        manual = [c for c in ctas if c.type == CtaType.RISK and c.source == Source.MANUAL]
        if flagged:
            pressures.append(
                (
                    account_id,
                    area,
                    "red",
                    [
                        {"id": c.pk, "sentence": f"Flagged CTA “{c.reason}”: {c.flag_reason}"}
                        for c in flagged
                    ],
                )
            )
        elif manual:
            pressures.append(
                (
                    account_id,
                    area,
                    "yellow",
                    [{"id": c.pk, "sentence": f"Open risk CTA “{c.reason}”"} for c in manual],
                )
            )
        else:
            pressures.append((account_id, area, None, []))
    cta_pressures_set(pressures)


def _check(user: User, cta: Cta) -> None:
    if not can_work_cta(user, cta):
        raise PermissionDenied("You may not work this CTA: it is another team's.")


def _lead_of(user: User | None) -> User | None:
    if user is None or user.team_id is None:
        return None
    lead = user.team.lead if user.team else None
    return lead if lead and lead.pk != user.pk else None


@transaction.atomic
def cta_create(
    *,
    account: Account,
    by: User | None,
    reason: str,
    type: str = CtaType.RISK,
    area: str = "",
    priority: str = Priority.MEDIUM,
    owner: User | None = None,
    due_date: dt.date | None = None,
    description: str = "",
    source: str = Source.MANUAL,
    playbook: Playbook | None = None,
    submission: uuid.UUID | None = None,
) -> Cta:
    """Open a CTA. A rule's CTA is de-duplicated on account + type + reason while live:
    the live one is returned instead of a second. A form's ``submission`` token posted
    again returns the CTA it opened the first time."""
    if source == Source.MANUAL and (
        by is None or not (can_change_account(by, account) or by.is_org_wide)
    ):
        raise PermissionDenied("You may open CTAs only on accounts of your book or team.")
    if submission is not None and by is not None:
        done = Cta.objects.filter(created_by=by, submission=submission).first()
        if done is not None:
            return done
    else:
        submission = None
    if not reason.strip():
        raise ValidationError({"reason": "Say why this CTA exists."})
    if area and area not in AreaCode.values:
        raise ValidationError({"area": f"Unknown area {area!r}."})
    if type == CtaType.RISK and not area:
        raise ValidationError({"area": "A risk CTA belongs to one of the eight areas."})
    owner = owner or account.owner or by
    if owner is None:
        raise ValidationError({"owner": "The account has no owner; choose one."})
    if source == Source.MANUAL:
        # A person's CTA: the assignment rule of reassignment, and no backdating (a CTA due
        # yesterday lands overdue, at the top of someone's cockpit and in their lead's alerts).
        if by is not None and not can_assign(by, account=account, holder=None, new_owner=owner):
            raise PermissionDenied(
                "You may give a CTA only to yourself, the account's owner or your team's people."
            )
        if due_date is not None and due_date < clock.today():
            raise ValidationError({"due_date": "A due date cannot be in the past."})
    now = clock.now()
    cta = Cta(
        account=account,
        type=type,
        area=area,
        reason=reason.strip()[:200],
        description=description,
        priority=priority,
        owner=owner,
        due_date=due_date or clock.today() + dt.timedelta(days=DUE_DAYS[priority]),
        source=source,
        playbook=playbook,
        created_by=by,
        created_at=now,
        updated_at=now,
        submission=submission,
    )
    if source == Source.RULE:
        existing = Cta.objects.filter(
            account=account,
            type=type,
            reason=cta.reason,
            source=Source.RULE,
            status__in=LIVE_STATUSES,
        ).first()
        if existing:
            return existing
        try:
            with transaction.atomic():
                cta.save()
        except IntegrityError:  # a concurrent rule run opened it first
            return Cta.objects.get(
                account=account,
                type=type,
                reason=cta.reason,
                source=Source.RULE,
                status__in=LIVE_STATUSES,
            )
    else:
        cta.full_clean(exclude=["owner", "account", "playbook", "created_by"])
        try:
            with transaction.atomic():
                cta.save()
        except IntegrityError:
            if submission is None:
                raise
            # The same form, posted twice at once: the other request opened it.
            return Cta.objects.get(created_by=by, submission=submission)
    if playbook is not None:
        playbook_apply(cta=cta, playbook=playbook)
    audit.record(
        actor=by,
        action="cta.created",
        target=cta,
        account_id=account.pk,
        changes={"status": (None, cta.status), "owner": (None, owner)},
        reason=cta.reason,
    )
    sync_scorecard(account.pk, area)
    if owner != by:
        transaction.on_commit(
            lambda: notify(
                user=owner,
                kind="cta_assigned",
                title=f"New CTA on {account.name}: {cta.reason}",
                url=_url(cta),
                dedupe_key=f"cta-assigned:{cta.pk}:{owner.pk}",
            )
        )
    return cta


def playbook_apply(*, cta: Cta, playbook: Playbook) -> list[CtaTask]:
    """Create the playbook's tasks on the CTA, owners by role and due dates by offset."""
    tasks = playbook_tasks(cta, list(playbook.steps.all()))
    CtaTask.objects.bulk_create(tasks)
    if cta.playbook_id != playbook.pk:
        Cta.objects.filter(pk=cta.pk).update(playbook=playbook)
    return tasks


def playbook_tasks(cta: Cta, steps: list[PlaybookStep]) -> list[CtaTask]:
    """The (unsaved) tasks a playbook's steps make for a CTA; skips steps below their ARR."""
    today = clock.today()
    tasks = []
    for step in steps:
        if step.min_arr is not None and cta.account.arr < step.min_arr:
            continue
        owner = cta.owner
        if step.owner_role == Role.TEAM_LEAD:
            owner = _lead_of(cta.owner) or cta.owner
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
    _check(by, cta)
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
    events.emit(events.cta_flagged, cta_id=cta.pk, by_id=by.pk, reason=cta.flag_reason)
    lead = _lead_of(cta.owner)
    people = {p for p in (lead, cta.owner) if p is not None and p.pk != by.pk}
    for person in people:
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="cta_flagged",
                title=f"{by.get_full_name() or by.username} flagged a CTA on {cta.account.name}",
                body=f"{cta.reason}: {cta.flag_reason}",
                url=_url(cta),
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
                url=_url(cta),
                dedupe_key=f"cta-assigned:{cta.pk}:{owner.pk}:{cta.updated_at:%Y%m%d%H%M%S}",
            )
        )
    return cta


def wake_snoozed() -> int:
    """Snoozed CTAs whose day has come are open again (beat, daily and at start-up)."""
    return Cta.objects.filter(status=Status.SNOOZED, snoozed_until__lte=clock.today()).update(
        status=Status.OPEN, snoozed_until=None, updated_at=clock.now()
    )


def comment_add(*, cta: Cta, by: User, body: str, submission: uuid.UUID | None = None) -> Comment:
    """Add to the chatter; every @username mentioned is notified at once. A form's
    ``submission`` token posted again returns the comment it added the first time."""
    _check(by, cta)
    if submission is not None:
        done = Comment.objects.filter(author=by, submission=submission).first()
        if done is not None:
            return done
    body = body.strip()
    if not body:
        raise ValidationError({"body": "Write something."})
    if len(body) > 5000:
        raise ValidationError({"body": "Keep a comment under 5,000 characters."})
    names = {m.rstrip(".") for m in MENTION.findall(body)}
    mentioned = list(
        User.objects.filter(username__in=names, is_active=True).exclude(role=Role.INTEGRATION)
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                comment = Comment.objects.create(
                    cta=cta, author=by, body=body, created_at=clock.now(), submission=submission
                )
        except IntegrityError:
            if submission is None:
                raise
            return Comment.objects.get(author=by, submission=submission)
        comment.mentions.set(mentioned)
        Cta.objects.filter(pk=cta.pk).update(updated_at=comment.created_at)
        events.emit(
            events.comment_added,
            cta_id=cta.pk,
            comment_id=comment.pk,
            by_id=by.pk,
            mentioned_ids=[p.pk for p in mentioned],
        )
    for person in mentioned:
        if person.pk == by.pk:
            continue
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="mention",
                title=f"{by.get_full_name() or by.username} mentioned you on {cta.account.name}",
                body=body[:500],
                url=_url(cta),
                dedupe_key=f"mention:{comment.pk}:{person.pk}",
            )
        )
    return comment


def task_complete(*, task: CtaTask, by: User) -> CtaTask:
    _check(by, task.cta)
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
        _check(by, cta)
        return cta
    return _transition(cta, by, "updated", allowed={"status__in": LIVE_STATUSES}, changes=changed)


def alert_overdue() -> int:
    """Tell the owner and their team lead once about each CTA that went past its due date."""
    today = clock.today()
    told = 0
    for cta in Cta.objects.filter(
        status__in=(Status.OPEN, Status.IN_PROGRESS), due_date__lt=today
    ).select_related("account", "owner__team__lead"):
        for person in {cta.owner, _lead_of(cta.owner)} - {None}:
            if notify(
                user=person,
                kind="cta_overdue",
                title=f"Overdue CTA on {cta.account.name}: {cta.reason}",
                body=f"Due {cta.due_date:%b %d}; owner {cta.owner}.",
                url=_url(cta),
                dedupe_key=f"cta-overdue:{cta.pk}:{cta.due_date}:{person.pk}",
            ):
                told += 1
    return told


def alert_color_change(*, account_id: int, old: str, new: str, reason: str) -> int:
    """An account's overall colour turned red, or left red: tell its owner and their lead."""
    if (old == "red") == (new == "red"):
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
    for person in {account.owner, _lead_of(account.owner)} - {None}:
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


def task_add(
    *, cta: Cta, by: User, title: str, owner: User | None = None, due_date: dt.date | None = None
) -> CtaTask:
    _check(by, cta)
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
