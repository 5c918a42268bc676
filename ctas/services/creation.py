"""Opening a CTA: by a person (their book, no backdating, an idempotent form token) or by a
signal rule (de-duplicated while live); a playbook adds its tasks."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import audit, clock
from csrisk.models import User
from csrisk.notifications import notify
from ctas.choices import LIVE_STATUSES, CtaType, Priority, Source
from ctas.models import Cta, Playbook
from ctas.rules import can_assign
from ctas.services.common import cta_url
from ctas.services.playbooks import playbook_apply
from ctas.services.scorecard import sync_scorecard
from scorecards.choices import AreaCode

DUE_DAYS = {Priority.URGENT: 1, Priority.HIGH: 3, Priority.MEDIUM: 7, Priority.LOW: 14}


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
                url=cta_url(cta),
                dedupe_key=f"cta-assigned:{cta.pk}:{owner.pk}",
            )
        )
    return cta
