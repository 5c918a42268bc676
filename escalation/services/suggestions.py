"""Suggestions to go higher (PRODUCT.md: the VP wants a renewal at risk, a red habits
scorecard, the executive decision maker gone; the CEO where they know the customer),
stored once per rule, accepted in one click or dismissed for good."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import PeopleChangeKind
from accounts.models import PeopleChange, PriorRelationship
from csrisk import clock
from csrisk.models import User
from csrisk.roles import Role
from ctas.choices import CtaType
from escalation import rules
from escalation.choices import Level, StepAction, SuggestionRule, SuggestionStatus
from escalation.models import Escalation, EscalationSettings, Suggestion
from escalation.services.levels import escalation_escalate
from escalation.services.timeline import person_name, record_step
from scorecards.choices import AreaCode
from scorecards.measures import EDM, EDM_LEFT
from scorecards.models import AreaScore, Scorecard
from scorecards.selectors import measure_verdicts

KEY_CONTACT_LEFT = "company.key_contact_left"


def suggestion_reasons(escalation: Escalation) -> list[tuple[str, int, str]]:
    """The (rule, level, reason) csrisk sees for going higher (PRODUCT.md: the VP wants a
    renewal at risk, a red habits scorecard, the executive decision maker gone; the CEO
    where they know the customer)."""
    settings = EscalationSettings.get()
    account = escalation.account
    today = clock.today()
    found: list[tuple[str, int, str]] = []
    card = Scorecard.objects.filter(account=account).first()
    if account.renewal_date and today <= account.renewal_date <= today + dt.timedelta(
        days=settings.renewal_window_days
    ):
        color = card.color if card else None
        if color in ("red", "yellow") or escalation.cta.type == CtaType.RENEWAL:
            days = (account.renewal_date - today).days
            found.append(
                (
                    SuggestionRule.RENEWAL_AT_RISK,
                    Level.VP,
                    f"Renewal in {days} days ({account.renewal_date:%b %d, %Y}) and the "
                    f"account is {color or 'at risk'}; ARR {account.arr:,.0f}.",
                )
            )
    habits = AreaScore.objects.filter(account=account, area=AreaCode.HABITS).first()
    # Red by what the measures or a person say — not red only because a CTA is flagged
    # there (that would suggest level 2 for every flagged habits CTA).
    measured = [r for r in (habits.reasons if habits else []) if r.get("kind") != "cta"]
    if (
        habits is not None
        and habits.color == "red"
        and (habits.computed_color == "red" or any(r.get("kind") == "override" for r in measured))
    ):
        head = measured[0].get("sentence", "") if measured else ""
        found.append(
            (SuggestionRule.HABITS_RED, Level.VP, f"The habits scorecard is red. {head}".strip())
        )
    edm = _edm_change(account.pk, today - dt.timedelta(days=settings.people_change_days))
    if edm:
        found.append((SuggestionRule.EDM_CHANGED, Level.VP, edm))
    ceo_ties = PriorRelationship.objects.filter(
        account=account, person__role=Role.CEO, person__is_active=True
    ).select_related("person")
    for tie in ceo_ties[:1]:
        found.append(
            (
                SuggestionRule.CEO_RELATIONSHIP,
                Level.CEO,
                f"{person_name(tie.person)} (CEO) has a prior relationship: "
                f"{tie.get_kind_display().lower()}"
                f"{' — ' + tie.note.rstrip('. ') if tie.note else ''}.",
            )
        )
    return found


def _edm_change(account_id: int, since: dt.date) -> str:
    """A sentence when the executive decision maker left or changed title.

    Left: the scorecard's own measure, ``company.key_contact_left`` at ``EDM_LEFT``, in its
    configured window (one definition with the scorecard and the executive summary).
    Changed title: the people changes (the one record of them) since ``since``."""
    left = measure_verdicts([KEY_CONTACT_LEFT], [account_id], clock.now())
    left = left[(left["measure"] == KEY_CONTACT_LEFT) & (left["value"] >= EDM_LEFT)]
    if not left.empty:
        return f"{left['sentence'].iloc[0]}."
    for change in PeopleChange.objects.filter(
        account_id=account_id,
        change=PeopleChangeKind.TITLE_CHANGED,
        occurred_at__date__gte=since,
    ).select_related("contact")[:20]:
        if EDM in (change.roles or []):
            who = change.contact.name if change.contact else "The executive decision maker"
            return (
                f"Executive decision maker {who} changed title "
                f"({change.old_title} → {change.new_title}) on {change.occurred_at:%b %d}."
            )
    return ""


def suggestions_refresh(escalation: Escalation) -> list[Suggestion]:
    """Store the suggestions that now apply and are above the current level (once per
    rule: a dismissed one stays dismissed)."""
    # The caller's copy may be stale (escalated meanwhile): suggest above the level now.
    escalation.refresh_from_db(fields=["level", "status"])
    if not escalation.is_open:
        return []
    Escalation.objects.filter(pk=escalation.pk).update(checked_at=clock.now())
    made = []
    for rule, level, reason in suggestion_reasons(escalation):
        if level <= escalation.level:
            continue
        suggestion, created = Suggestion.objects.get_or_create(
            escalation=escalation,
            rule=rule,
            defaults={"level": level, "reason": reason[:300], "created_at": clock.now()},
        )
        if created:
            record_step(escalation, None, StepAction.SUGGESTED, to_level=level, reason=reason[:300])
            made.append(suggestion)
    return made


@transaction.atomic
def suggestion_accept(*, suggestion: Suggestion, by: User) -> Escalation:
    """One click: escalate to the suggested level with the suggestion as the reason."""
    claimed = Suggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.OPEN).update(
        status=SuggestionStatus.ACCEPTED, decided_by=by, decided_at=clock.now()
    )
    if not claimed:
        raise ValidationError("This suggestion was already decided.")
    escalation = suggestion.escalation
    return escalation_escalate(
        escalation=escalation,
        by=by,
        level=suggestion.level,
        reason=f"Accepted suggestion ({suggestion.get_rule_display()}): {suggestion.reason}",
    )


@transaction.atomic
def suggestion_dismiss(*, suggestion: Suggestion, by: User, note: str = "") -> Suggestion:
    """Not now: recorded (who, when, why) and not suggested again for this escalation."""
    if not rules.can_resolve(by, suggestion.escalation) and not rules.can_escalate(
        by, suggestion.escalation, suggestion.level
    ):
        raise PermissionDenied("Only the people working this escalation decide its suggestions.")
    claimed = Suggestion.objects.filter(pk=suggestion.pk, status=SuggestionStatus.OPEN).update(
        status=SuggestionStatus.DISMISSED,
        decided_by=by,
        decided_at=clock.now(),
        note=note.strip()[:300],
    )
    if not claimed:
        raise ValidationError("This suggestion was already decided.")
    suggestion.refresh_from_db()
    record_step(
        suggestion.escalation,
        by,
        StepAction.SUGGESTION_DISMISSED,
        to_level=suggestion.level,
        reason=f"{suggestion.reason}" + (f" — {suggestion.note}" if suggestion.note else ""),
    )
    return suggestion
