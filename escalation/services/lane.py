"""The VP's "suggested for level 2" lane: every live account, flagged or not, that shows a
reason the VP wants in (``suggestions.level_two_reasons``) and is not at level 2 already.

Kept current by the beat (``lane_sweep`` in bounded batches) and by the recompute (a
colour change refreshes that account). A suggestion is accepted — the account's open
escalation goes to level 2, or a CTA is opened and flagged first when none is — or
dismissed; either is recorded with who, and a decided suggestion comes back only when
its basis (the renewal date, the departure, the red spell) changes.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import LifecycleStage
from accounts.models import Account
from accounts.rules import can_change_account
from csrisk import audit, clock
from csrisk.models import User
from ctas.choices import LIVE_STATUSES, CtaType
from ctas.services import creation, transitions
from escalation import rules
from escalation.choices import (
    EscalationStatus,
    Level,
    StepAction,
    SuggestionRule,
    SuggestionStatus,
)
from escalation.models import AccountSuggestion, Escalation, Suggestion
from escalation.services.levels import escalation_escalate
from escalation.services.suggestions import level_two_reasons
from escalation.services.timeline import record_step

LANE_BATCH = 500

# The CTA accepting opens when the account has none flagged: (type, area) per rule.
CTA_FOR_RULE: dict[str, tuple[str, str]] = {
    SuggestionRule.RENEWAL_AT_RISK: (CtaType.RENEWAL, ""),
    SuggestionRule.HABITS_RED: (CtaType.RISK, "habits"),
    SuggestionRule.EDM_CHANGED: (CtaType.RISK, "company"),
}


def live_accounts():
    return Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)


def lane_refresh(account_ids: list[int], only: list[str] | None = None) -> dict[str, int]:
    """Store the level-2 suggestions that now apply to these accounts; drop the open ones
    whose reason went away; reopen a decided one whose basis changed. Idempotent.
    ``only``: look at these rules alone (the others are left as they are)."""
    counts = {"suggested": 0, "reopened": 0, "dropped": 0}
    ids = sorted(set(live_accounts().filter(pk__in=account_ids).values_list("pk", flat=True)))
    if not ids:
        return counts
    levels_now: dict[int, int] = {}
    renewal_ctas: set[int] = set()
    for account_id, level, cta_type in Escalation.objects.filter(
        account_id__in=ids, status=EscalationStatus.OPEN, cta__status__in=LIVE_STATUSES
    ).values_list("account_id", "level", "cta__type"):
        levels_now[account_id] = max(level, levels_now.get(account_id, 0))
        if cta_type == CtaType.RENEWAL:
            renewal_ctas.add(account_id)
    reasons = level_two_reasons(ids, flagged=set(levels_now), renewal_ctas=renewal_ctas, only=only)
    now = clock.now()
    rows = AccountSuggestion.objects.filter(account_id__in=ids)
    if only is not None:
        rows = rows.filter(rule__in=only)
    existing = {(s.account_id, s.rule): s for s in rows}
    wanted: set[tuple[int, str]] = set()
    for account_id, found in reasons.items():
        if levels_now.get(account_id, 0) >= Level.VP:
            continue  # the VP has it already
        for rule, level, sentence, basis in found:
            if level != Level.VP:
                continue
            wanted.add((account_id, rule))
            row = existing.get((account_id, rule))
            if row is None:
                AccountSuggestion.objects.create(
                    account_id=account_id,
                    rule=rule,
                    level=level,
                    reason=sentence[:300],
                    basis=basis[:300],
                    created_at=now,
                    updated_at=now,
                )
                counts["suggested"] += 1
            elif row.status != SuggestionStatus.OPEN and row.basis != basis[:300]:
                AccountSuggestion.objects.filter(pk=row.pk).update(
                    status=SuggestionStatus.OPEN,
                    reason=sentence[:300],
                    basis=basis[:300],
                    created_at=now,
                    updated_at=now,
                    decided_by=None,
                    decided_at=None,
                    note="",
                    escalation=None,
                )
                counts["reopened"] += 1
            elif row.status == SuggestionStatus.OPEN and row.reason != sentence[:300]:
                AccountSuggestion.objects.filter(pk=row.pk).update(
                    reason=sentence[:300], basis=basis[:300], updated_at=now
                )
    # Open suggestions whose reason went away (or that reached level 2) leave the lane; a
    # decided one stays, so the same reason coming back does not ask again.
    gone = [
        s.pk
        for key, s in existing.items()
        if key not in wanted and s.status == SuggestionStatus.OPEN
    ]
    counts["dropped"] = AccountSuggestion.objects.filter(pk__in=gone).delete()[0]
    return counts


def lane_sweep(after: int = 0, batch: int = LANE_BATCH) -> int | None:
    """Refresh the next ``batch`` live accounts after id ``after``; the id to go on from,
    or None when the book is done (the task re-queues itself with it)."""
    ids = list(
        live_accounts().filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
    )
    if not ids:
        return None
    lane_refresh(ids)
    return ids[-1] if len(ids) == batch else None


def lane_refresh_all() -> None:
    after: int | None = 0
    while after is not None:
        after = lane_sweep(after)


def can_decide(user: User, suggestion: AccountSuggestion) -> bool:
    """Who may raise the account to the suggested level: by configuration (raised_by),
    and on an account they may change (the VP and CEO: any)."""
    if not user.is_active or user.is_integration:
        return False
    if rules.max_level_for(user) < suggestion.level:
        return False
    return user.is_superuser or user.is_org_wide or can_change_account(user, suggestion.account)


def _claim(suggestion: AccountSuggestion, by: User, status: str, note: str = "") -> None:
    if not can_decide(by, suggestion):
        raise PermissionDenied(
            f"Only someone who may raise this account to level {suggestion.level} decides."
        )
    claimed = AccountSuggestion.objects.filter(
        pk=suggestion.pk, status=SuggestionStatus.OPEN
    ).update(status=status, decided_by=by, decided_at=clock.now(), note=note.strip()[:300])
    if not claimed:
        raise ValidationError("This suggestion was already decided.")


@transaction.atomic
def lane_accept(*, suggestion: AccountSuggestion, by: User) -> Escalation:
    """Take the account to the suggested level: its open escalation moves up, or — none
    flagged — a CTA is opened and flagged first (level 1), then moved up. The lead and the
    CSM are told by the escalation itself."""
    _claim(suggestion, by, SuggestionStatus.ACCEPTED)
    account = suggestion.account
    why = f"Suggested ({suggestion.get_rule_display()}): {suggestion.reason}"
    escalation = (
        Escalation.objects.filter(account=account, status=EscalationStatus.OPEN)
        .order_by("-level", "opened_at", "pk")
        .first()
    )
    if escalation is None:
        cta_type, area = CTA_FOR_RULE.get(suggestion.rule, (CtaType.RENEWAL, ""))
        cta = creation.cta_create(
            account=account, by=by, reason=suggestion.reason, type=cta_type, area=area
        )
        transitions.cta_flag(cta=cta, by=by, reason=why)
        escalation = Escalation.objects.get(cta=cta, status=EscalationStatus.OPEN)
    if escalation.level >= suggestion.level:
        raise ValidationError(f"It is at level {escalation.level} already.")
    escalation = escalation_escalate(
        escalation=escalation, by=by, level=suggestion.level, reason=why
    )
    AccountSuggestion.objects.filter(pk=suggestion.pk).update(escalation=escalation)
    audit.record(
        actor=by,
        action="escalation.lane_accepted",
        target=suggestion,
        account_id=account.pk,
        changes={"status": (SuggestionStatus.OPEN, SuggestionStatus.ACCEPTED)},
        reason=suggestion.reason,
    )
    return escalation


@transaction.atomic
def lane_dismiss(*, suggestion: AccountSuggestion, by: User, note: str = "") -> AccountSuggestion:
    """Not now: recorded (who, when, why); it returns only when its basis changes."""
    _claim(suggestion, by, SuggestionStatus.DISMISSED, note)
    suggestion.refresh_from_db()
    # One decision: the same suggestion on the account's open escalation (its CTA panel)
    # is dismissed with it, on that escalation's timeline.
    now = clock.now()
    for twin in Suggestion.objects.filter(
        escalation__account_id=suggestion.account_id,
        escalation__status=EscalationStatus.OPEN,
        rule=suggestion.rule,
        status=SuggestionStatus.OPEN,
    ).select_related("escalation"):
        Suggestion.objects.filter(pk=twin.pk, status=SuggestionStatus.OPEN).update(
            status=SuggestionStatus.DISMISSED, decided_by=by, decided_at=now, note=suggestion.note
        )
        record_step(
            twin.escalation,
            by,
            StepAction.SUGGESTION_DISMISSED,
            to_level=twin.level,
            reason=f"{twin.reason} — dismissed in the VP's lane"
            + (f": {suggestion.note}" if suggestion.note else ""),
        )
    audit.record(
        actor=by,
        action="escalation.lane_dismissed",
        target=suggestion,
        account_id=suggestion.account_id,
        changes={"status": (SuggestionStatus.OPEN, SuggestionStatus.DISMISSED)},
        reason=suggestion.note or suggestion.reason,
    )
    return suggestion
