"""Opening a CTA: by a person (their book, no backdating, an idempotent form token) or by a
signal rule (de-duplicated while live); a playbook adds its tasks."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import audit, clock
from csrisk.models import User
from csrisk.notifications import Note, notify_many
from ctas.choices import LIVE_STATUSES, CtaType, Priority, Source
from ctas.models import Cta, Playbook
from ctas.rules import can_assign
from ctas.services.common import cta_url
from ctas.services.playbooks import playbooks_apply
from ctas.services.scorecard import sync_scorecards
from scorecards.choices import AreaCode

DUE_DAYS = {Priority.URGENT: 1, Priority.HIGH: 3, Priority.MEDIUM: 7, Priority.LOW: 14}


class RuleCta(NamedTuple):
    """A CTA a signal rule calls for (``rule_ctas_open``)."""

    account: Account
    reason: str
    area: str = ""
    priority: str = Priority.MEDIUM
    description: str = ""
    playbook: Playbook | None = None
    type: str = CtaType.RISK
    owner: User | None = None
    due_date: dt.date | None = None


def _check(*, reason: str, area: str, type: str, owner: User | None) -> None:
    if not reason.strip():
        raise ValidationError({"reason": "Say why this CTA exists."})
    if area and area not in AreaCode.values:
        raise ValidationError({"area": f"Unknown area {area!r}."})
    if type == CtaType.RISK and not area:
        raise ValidationError({"area": "A risk CTA belongs to one of the eight areas."})
    if owner is None:
        raise ValidationError({"owner": "The account has no owner; choose one."})


def _new_cta(
    *,
    account: Account,
    by: User | None,
    owner: User,
    reason: str,
    type: str,
    area: str,
    priority: str,
    due_date: dt.date | None,
    description: str,
    source: str,
    playbook: Playbook | None,
    submission: uuid.UUID | None = None,
) -> Cta:
    now = clock.now()
    return Cta(
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
    the live one is returned instead of a second (``rule_ctas_open``). A form's
    ``submission`` token posted again returns the CTA it opened the first time."""
    if source == Source.RULE:
        found = rule_ctas_open(
            [
                RuleCta(
                    account, reason, area, priority, description, playbook, type, owner, due_date
                )
            ],
            by=by,
        )[0]
        if isinstance(found, ValidationError):
            raise found
        return found
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
    owner = owner or account.owner or by
    _check(reason=reason, area=area, type=type, owner=owner)
    assert owner is not None
    if source == Source.MANUAL:
        # A person's CTA: the assignment rule of reassignment, and no backdating (a CTA due
        # yesterday lands overdue, at the top of someone's cockpit and in their lead's alerts).
        if by is not None and not can_assign(by, account=account, holder=None, new_owner=owner):
            raise PermissionDenied(
                "You may give a CTA only to yourself, the account's owner or your team's people."
            )
        if due_date is not None and due_date < clock.today():
            raise ValidationError({"due_date": "A due date cannot be in the past."})
    cta = _new_cta(
        account=account,
        by=by,
        owner=owner,
        reason=reason,
        type=type,
        area=area,
        priority=priority,
        due_date=due_date,
        description=description,
        source=source,
        playbook=playbook,
        submission=submission,
    )
    cta.full_clean(exclude=["owner", "account", "playbook", "created_by"])
    try:
        with transaction.atomic():
            cta.save()
    except IntegrityError:
        if submission is None:
            raise
        # The same form, posted twice at once: the other request opened it.
        return Cta.objects.get(created_by=by, submission=submission)
    _opened([cta], by)
    return cta


@transaction.atomic
def rule_ctas_open(
    items: Sequence[RuleCta], *, by: User | None = None
) -> list[Cta | ValidationError]:
    """Open the CTAs signal rules call for, many at once: each is de-duplicated on account +
    type + reason while live (the live one is returned instead of a second; one read for all,
    and the unique index has the last word against a concurrent run), with its playbook's
    tasks, its audit row, the scorecard's holds and its owner's notification, in a few
    statements. One answer per item, in order: the CTA, or why it could not open."""
    out: list[Cta | ValidationError | None] = [None] * len(items)
    wanted: dict[tuple[int, str, str], list[int]] = {}
    for i, item in enumerate(items):
        try:
            _check(
                reason=item.reason,
                area=item.area,
                type=item.type,
                owner=item.owner or item.account.owner or by,
            )
        except ValidationError as exc:
            out[i] = exc
            continue
        key = (item.account.pk, item.type, item.reason.strip()[:200])
        wanted.setdefault(key, []).append(i)
    live = (
        {
            (c.account_id, c.type, c.reason): c
            for c in Cta.objects.filter(
                account_id__in={a for a, _, _ in wanted},
                type__in={t for _, t, _ in wanted},
                reason__in={r for _, _, r in wanted},
                source=Source.RULE,
                status__in=LIVE_STATUSES,
            )
        }
        if wanted
        else {}
    )
    new: list[Cta] = []
    for key, indexes in wanted.items():
        if key in live:
            continue
        item = items[indexes[0]]
        owner = item.owner or item.account.owner or by
        assert owner is not None
        live[key] = _new_cta(
            account=item.account,
            by=by,
            owner=owner,
            reason=item.reason,
            type=item.type,
            area=item.area,
            priority=item.priority,
            due_date=item.due_date,
            description=item.description,
            source=Source.RULE,
            playbook=item.playbook,
        )
        new.append(live[key])
    opened = new
    try:
        with transaction.atomic():
            Cta.objects.bulk_create(new)
    except IntegrityError:  # a concurrent rule run opened one of them first: one at a time
        opened = []
        for cta in new:
            key = (cta.account_id, cta.type, cta.reason)
            try:
                with transaction.atomic():
                    cta.pk = None
                    cta.save(force_insert=True)
            except IntegrityError:
                live[key] = Cta.objects.get(
                    account_id=cta.account_id,
                    type=cta.type,
                    reason=cta.reason,
                    source=Source.RULE,
                    status__in=LIVE_STATUSES,
                )
                continue
            opened.append(cta)
    _opened(opened, by)
    for key, indexes in wanted.items():
        for i in indexes:
            out[i] = live[key]
    return [o for o in out if o is not None]


def _opened(ctas: list[Cta], by: User | None) -> None:
    """What follows opening CTAs: their playbooks' tasks, their audit rows, the areas they
    hold, and after the commit their owners told."""
    if not ctas:
        return
    playbooks_apply(ctas)
    audit.record_many(
        [
            audit.entry(
                actor=by,
                action="cta.created",
                target=cta,
                account_id=cta.account_id,
                changes={"status": (None, cta.status), "owner": (None, cta.owner)},
                reason=cta.reason,
            )
            for cta in ctas
        ]
    )
    sync_scorecards([(cta.account_id, cta.area) for cta in ctas])
    notes = [
        Note(
            user=cta.owner,
            kind="cta_assigned",
            title=f"New CTA on {cta.account.name}: {cta.reason}",
            url=cta_url(cta),
            dedupe_key=f"cta-assigned:{cta.pk}:{cta.owner.pk}",
        )
        for cta in ctas
        if cta.owner != by
    ]
    if notes:
        transaction.on_commit(lambda: notify_many(notes))
