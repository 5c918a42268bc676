"""Overrides: a person sets an area's colour until an expiry; recomputes keep it until
then, and the sweeper ends it and tells the owner and the setter."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import audit, clock, events
from csrisk.models import User
from csrisk.notifications import notify
from scorecards.choices import AreaCode, Color
from scorecards.colour_rule import held_red
from scorecards.models import AreaScore, CtaPressure, Override, ScorecardSettings
from scorecards.services.recomputation import first_reason, recompute


def override_set(
    *, account: Account, area: str, color: str, reason: str, expires_at: dt.datetime, by: User
) -> Override:
    """Set an area's colour by hand until ``expires_at``; recomputes keep it until then."""
    if not can_change_account(by, account):
        raise PermissionDenied(
            "Only the account's owner, their team lead, the VP or the CEO "
            "may override its scorecard."
        )
    if area not in AreaCode.values:
        raise ValidationError({"area": f"Unknown area {area!r}."})
    if color not in Color.values:
        raise ValidationError({"color": "Use green, yellow or red."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why: an override without a reason helps nobody."})
    # The colour rule (colour_rule.held_red) holds a flagged area red whatever an override
    # says: refuse the override that could not show, with the way that works.
    floor = (
        CtaPressure.objects.filter(account=account, area=area)
        .values_list("color", flat=True)
        .first()
    )
    if held_red(floor, color):
        raise ValidationError(
            {
                "color": "A flagged CTA holds this area red: an override cannot turn it below "
                "red. Lift the flag (or close the CTA) to let the colour change."
            }
        )
    now = clock.now()
    longest = ScorecardSettings.get().override_max_days
    if expires_at <= now:
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if expires_at > now + dt.timedelta(days=longest):
        raise ValidationError({"expires_at": f"An override may last at most {longest} days."})
    with transaction.atomic():
        before = AreaScore.objects.filter(account=account, area=area).first()
        replaced = Override.objects.filter(account=account, area=area, ended_at__isnull=True)
        replaced.update(ended_at=now, ended_by=by, end_reason="replaced")
        override = Override.objects.create(
            account=account,
            area=area,
            color=color,
            reason=reason.strip(),
            set_by=by,
            set_at=now,
            expires_at=expires_at,
        )
        audit.record(
            actor=by,
            action="scorecard.override_set",
            target=override,
            account_id=account.pk,
            changes={
                "color": (before.color if before else None, color),
                "expires_at": (None, expires_at),
            },
            reason=reason.strip(),
        )
        recompute([account.pk], cause="override")
    return override


def override_clear(*, override: Override, by: User, reason: str = "") -> Override:
    if not can_change_account(by, override.account):
        raise PermissionDenied("You may not change this account's scorecard.")
    with transaction.atomic():
        ended = Override.objects.filter(pk=override.pk, ended_at__isnull=True).update(
            ended_at=clock.now(), ended_by=by, end_reason="cleared"
        )
        if not ended:
            raise ValidationError("This override has already ended.")
        audit.record(
            actor=by,
            action="scorecard.override_cleared",
            target=override,
            account_id=override.account_id,
            changes={"color": (override.color, None)},
            reason=reason,
        )
        recompute([override.account_id], cause="override")
    override.refresh_from_db()
    return override


def expire_overrides() -> int:
    """End overrides past their expiry, recompute, and tell the owner and the setter."""
    now = clock.now()
    due = list(
        Override.objects.filter(ended_at__isnull=True, expires_at__lte=now).select_related(
            "account__owner", "set_by"
        )
    )
    expired = []
    for o in due:
        with transaction.atomic():
            # Race-safe: only one sweeper ends a given override.
            if not Override.objects.filter(pk=o.pk, ended_at__isnull=True).update(
                ended_at=now, end_reason="expired"
            ):
                continue
            audit.record(
                actor=None,
                action="scorecard.override_expired",
                target=o,
                account_id=o.account_id,
                changes={"color": (o.color, None)},
                reason="expired",
            )
            recompute([o.account_id], cause="expiry")
            expired.append(o)
    for o in expired:
        score = AreaScore.objects.get(account_id=o.account_id, area=o.area)
        area = AreaCode(o.area).label
        people = {u for u in (o.account.owner, o.set_by) if u is not None}
        for person in people:
            notify(
                user=person,
                kind="override_expired",
                title=f"{o.account.name}: the {area} override expired",
                body=f"Your {o.color} override ({o.reason}) ended on "
                f"{o.expires_at:%Y-%m-%d %H:%M}. {area} is {score.color} again from its "
                f"measures: {first_reason(score.reasons)}",
                url=reverse("accounts:detail", args=[o.account_id]),
                dedupe_key=f"override-expired:{o.pk}",
            )
        events.emit_on_commit(
            events.override_expired,
            account_id=o.account_id,
            area=o.area,
            color=score.color,
            set_by_id=o.set_by_id,
        )
    return len(expired)
