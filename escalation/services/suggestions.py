"""Suggestions to go higher (PRODUCT.md: the VP wants a renewal at risk, a red habits
scorecard, the executive decision maker gone; the CEO where they know the customer),
stored once per rule, accepted in one click or dismissed for good."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import PeopleChangeKind
from accounts.models import Account, PeopleChange, PriorRelationship
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


# A reason csrisk sees for level 2: (rule, level, sentence, basis). ``basis`` is what the
# sentence rests on (a renewal date, a departure): a dismissed suggestion returns only
# when it changes, not when a figure in the sentence moves.
Reason = tuple[str, int, str, str]
# A reason source: account ids → their reasons. The hook for signals escalation does not
# own, e.g. the renewal-risk model's top band (SuggestionRule.RISK_TOP_BAND): insights
# registers one in its AppConfig.ready with ``register_source``, as escalation must not
# import insights. It is asked for every account the lane and the escalations look at.
ReasonSource = Callable[[list[int]], dict[int, list[Reason]]]
_sources: list[ReasonSource] = []


def register_source(source: ReasonSource) -> None:
    """Add a source of level-2 reasons (idempotent: the same function once)."""
    if source not in _sources:
        _sources.append(source)


def unregister_source(source: ReasonSource) -> None:
    if source in _sources:
        _sources.remove(source)


def level_two_reasons(
    account_ids: Iterable[int],
    *,
    flagged: Collection[int] = (),
    renewal_ctas: Collection[int] = (),
    only: Collection[str] | None = None,
) -> dict[int, list[Reason]]:
    """Why these accounts want the VP (PRODUCT.md: a renewal at risk, a red habits
    scorecard, the executive decision maker gone), in a handful of queries for any number
    of accounts — the one definition behind an escalation's suggestions and the VP's lane.

    A renewal is at risk when it falls inside the configured window and the account is
    red — or yellow while someone asked for help (a CTA of it is ``flagged``), or the
    flagged CTA is the renewal itself (``renewal_ctas``). ``only``: these rules alone
    (a colour change re-reads what it can move, not the whole set)."""
    ids = sorted(set(account_ids))
    found: dict[int, list[Reason]] = {pk: [] for pk in ids}
    if not ids:
        return found
    settings = EscalationSettings.get()
    today = clock.today()
    until = today + dt.timedelta(days=settings.renewal_window_days)
    wanted = set(only) if only is not None else set(SuggestionRule.values)
    colors = dict(Scorecard.objects.filter(account_id__in=ids).values_list("account_id", "color"))
    renewing = Account.objects.filter(pk__in=ids, renewal_date__gte=today, renewal_date__lte=until)
    if SuggestionRule.RENEWAL_AT_RISK not in wanted:
        renewing = renewing.none()
    for account in renewing.only("pk", "arr", "renewal_date"):
        color = colors.get(account.pk)
        flagged_here = account.pk in flagged
        if color == "red" or (color == "yellow" and flagged_here) or account.pk in renewal_ctas:
            days = (account.renewal_date - today).days
            found[account.pk].append(
                (
                    SuggestionRule.RENEWAL_AT_RISK,
                    Level.VP,
                    f"Renewal in {days} days ({account.renewal_date:%b %d, %Y}) and the "
                    f"account is {color or 'at risk'}; ARR {account.arr:,.0f}.",
                    f"renewal {account.renewal_date:%Y-%m-%d}",
                )
            )
    red_habits = AreaScore.objects.filter(account_id__in=ids, area=AreaCode.HABITS, color="red")
    if SuggestionRule.HABITS_RED not in wanted:
        red_habits = red_habits.none()
    for habits in red_habits:
        # Red by what the measures or a person say — not red only because a CTA is flagged
        # there (that would suggest level 2 for every flagged habits CTA).
        measured = [r for r in (habits.reasons or []) if r.get("kind") != "cta"]
        if habits.computed_color == "red" or any(r.get("kind") == "override" for r in measured):
            head = measured[0].get("sentence", "") if measured else ""
            found[habits.account_id].append(
                (
                    SuggestionRule.HABITS_RED,
                    Level.VP,
                    f"The habits scorecard is red. {head}".strip(),
                    f"habits red since {habits.changed_at:%Y-%m-%d %H:%M}",
                )
            )
    edm = (
        _edm_changes(ids, today - dt.timedelta(days=settings.people_change_days))
        if SuggestionRule.EDM_CHANGED in wanted
        else {}
    )
    for account_id, (sentence, basis) in edm.items():
        found[account_id].append((SuggestionRule.EDM_CHANGED, Level.VP, sentence, basis))
    for source in _sources if only is None else []:
        for account_id, reasons in source(ids).items():
            if account_id in found:
                found[account_id].extend(reasons)
    return found


def suggestion_reasons(escalation: Escalation) -> list[tuple[str, int, str]]:
    """The (rule, level, reason) csrisk sees for taking this escalation higher: the
    level-2 reasons of its account (``level_two_reasons``), and level 3 where the CEO
    knows the customer."""
    account = escalation.account
    renewal = {account.pk} if escalation.cta.type == CtaType.RENEWAL else set()
    found = [
        (rule, level, sentence)
        for rule, level, sentence, _ in level_two_reasons(
            [account.pk], flagged={account.pk}, renewal_ctas=renewal
        )[account.pk]
    ]
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


def _edm_changes(account_ids: list[int], since: dt.date) -> dict[int, tuple[str, str]]:
    """(sentence, basis) per account whose executive decision maker left or changed title.

    Left: the scorecard's own measure, ``company.key_contact_left`` at ``EDM_LEFT``, in its
    configured window (one definition with the scorecard and the executive summary).
    Changed title: the people changes (the one record of them) since ``since``."""
    found: dict[int, tuple[str, str]] = {}
    left = measure_verdicts([KEY_CONTACT_LEFT], account_ids, clock.now())
    left = left[(left["measure"] == KEY_CONTACT_LEFT) & (left["value"] >= EDM_LEFT)]
    for row in left.itertuples():
        found.setdefault(int(row.account_id), (f"{row.sentence}.", str(row.sentence)))
    for change in (
        PeopleChange.objects.filter(
            account_id__in=[pk for pk in account_ids if pk not in found],
            change=PeopleChangeKind.TITLE_CHANGED,
            occurred_at__date__gte=since,
        )
        .select_related("contact")
        .order_by("-occurred_at", "-pk")
    ):
        if change.account_id in found or EDM not in (change.roles or []):
            continue
        who = change.contact.name if change.contact else "The executive decision maker"
        found[change.account_id] = (
            f"Executive decision maker {who} changed title "
            f"({change.old_title} → {change.new_title}) on {change.occurred_at:%b %d}.",
            f"title change {change.pk}",
        )
    return found


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
