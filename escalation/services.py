"""Writes for the escalation chain (PRODUCT.md, "Escalation: flag first, then levels").

Flagging a CTA opens an escalation at level 1 (``escalation_open``, called by the receiver
of ``events.cta_flagged`` inside the flag's transaction) and routes it: the owner's team
lead (ctas tells them), the meeting or live queue of the team that owns the area (RACI),
and the CS team meeting when the account renews soon. From there people escalate to level
2 (VP) and 3 (CEO), de-escalate, acknowledge and resolve; every step is on the timeline
(``EscalationStep``) and in the audit log, and the people at the new level are told.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse

from accounts.choices import ContactRole, PeopleChangeKind
from accounts.models import Contact, ContactTitleChange, PeopleChange, PriorRelationship
from csrisk import audit, clock
from csrisk.models import Team, User
from csrisk.notifications import notify
from csrisk.roles import Role
from ctas import services as cta_services
from ctas.choices import LIVE_STATUSES, CtaType
from ctas.models import Cta
from escalation import rules
from escalation.choices import (
    EscalationStatus,
    Level,
    MeetingKind,
    StepAction,
    SuggestionRule,
    SuggestionStatus,
)
from escalation.models import (
    AgendaReview,
    Escalation,
    EscalationLevel,
    EscalationSettings,
    EscalationStep,
    Meeting,
    Suggestion,
)
from escalation.selectors import AgendaItem
from scorecards.choices import AreaCode
from scorecards.models import Area, AreaScore, Scorecard

TOP = max(Level.values)
SUGGESTION_RECHECK = dt.timedelta(hours=1)
SWEEP_BATCH = 500


def _url(escalation: Escalation) -> str:
    return reverse("cockpit:cta", args=[escalation.cta_id]) + "#escalation"


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else "csrisk"


def _deadline(level: int, start: dt.datetime, config: dict[int, EscalationLevel]) -> dt.datetime:
    days = config[level].ack_business_days if level in config else Decimal(1)
    return clock.add_business_days(start, float(days))


def _step(
    escalation: Escalation,
    by: User | None,
    action: str,
    *,
    from_level: int | None = None,
    to_level: int | None = None,
    reason: str = "",
) -> EscalationStep:
    step = EscalationStep.objects.create(
        escalation=escalation,
        at=clock.now(),
        by=by if by and by.pk else None,
        action=action,
        from_level=from_level,
        to_level=to_level,
        reason=reason,
    )
    audit.record(
        actor=by,
        action=f"escalation.{action}",
        target=escalation,
        account_id=escalation.account_id,
        changes={"level": (from_level, to_level)} if to_level is not None else {},
        reason=reason,
    )
    return step


def _locked(escalation: Escalation) -> Escalation:
    """The escalation re-read under a row lock (call inside a transaction)."""
    return (
        Escalation.objects.select_for_update(of=("self",))
        .select_related("cta__owner__team__lead", "cta__account", "account")
        .get(pk=escalation.pk)
    )


# --- routing -------------------------------------------------------------------------


def routes_for(
    cta: Cta, *, areas: dict[str, Area] | None = None, meetings: list[Meeting] | None = None
) -> list[dict]:
    """Where a flagged CTA goes at level 1: the owner's team lead, the team owning its area
    (RACI), and every meeting or live queue whose criteria it meets. ``areas`` and
    ``meetings`` may be passed in loaded, for many CTAs at once."""
    routes: list[dict] = []
    owner = cta.owner
    lead = owner.team.lead if owner and owner.team_id and owner.team else None
    if lead is not None and lead.pk != owner.pk:
        routes.append({"kind": "lead", "id": lead.pk, "name": _name(lead)})
    if areas is None:
        areas = {a.code: a for a in Area.objects.select_related("owning_team")}
    area = areas.get(cta.area) if cta.area else None
    if area is not None:
        team = area.owning_team
        routes.append(
            {
                "kind": "team",
                "id": team.pk if team else None,
                "name": team.name if team else area.get_owning_function_display(),
                "function": area.owning_function,
            }
        )
    if meetings is None:
        meetings = list(Meeting.objects.filter(active=True))
    for meeting in meetings:
        by_renewal = meeting.renewal_window_days is not None and (
            cta.type == CtaType.RENEWAL or _renews_within(cta, meeting.renewal_window_days)
        )
        if cta.area in (meeting.areas or []) or by_renewal:
            routes.append(
                {
                    "kind": "queue" if meeting.kind == MeetingKind.QUEUE else "meeting",
                    "id": meeting.pk,
                    "name": meeting.name,
                    "slug": meeting.slug,
                }
            )
    return routes


def _renews_within(cta: Cta, days: int) -> bool:
    renewal = cta.account.renewal_date
    today = clock.today()
    return renewal is not None and today <= renewal <= today + dt.timedelta(days=days)


def _queue_people(meeting: Meeting) -> list[User]:
    """Who a live queue tells at once: its attendees and team, else (RACI) the people of
    the teams whose function owns the queue's areas."""
    people = set(meeting.attendees.filter(is_active=True))
    teams: list[Team] = [meeting.team] if meeting.team_id else []
    if not people and not teams:
        owners = Area.objects.filter(code__in=meeting.areas or [])
        teams = list(
            Team.objects.filter(
                Q(pk__in=owners.exclude(owning_team=None).values("owning_team"))
                | Q(function__in=owners.values("owning_function"))
            )
        )
    for team in teams:
        people |= set(team.members.filter(is_active=True).exclude(role=Role.INTEGRATION))
        if team.lead_id and team.lead.is_active:
            people.add(team.lead)
    return sorted(people, key=lambda p: p.pk)


# --- the chain -------------------------------------------------------------------------


@transaction.atomic
def escalation_open(*, cta: Cta, by: User | None, reason: str) -> Escalation:
    """Level 1 for a flagged CTA (the open one if it has one already)."""
    existing = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if existing is not None:
        return existing
    config = rules.levels()
    now = clock.now()
    cta = Cta.objects.select_related("account", "owner__team__lead").get(pk=cta.pk)
    escalation = Escalation(
        cta=cta,
        account=cta.account,
        level=Level.TEAM,
        reason=reason or cta.flag_reason or cta.reason,
        opened_by=by,
        opened_at=now,
        level_since=now,
        deadline_at=_deadline(Level.TEAM, now, config),
        routes=routes_for(cta),
    )
    try:
        with transaction.atomic():
            escalation.save()
    except IntegrityError:  # a concurrent flag (or the sweeper) opened it first
        return Escalation.objects.get(cta=cta, status=EscalationStatus.OPEN)
    _step(escalation, by, StepAction.OPENED, to_level=Level.TEAM, reason=escalation.reason)
    for route in escalation.routes:
        if route["kind"] != "queue":
            continue
        meeting = Meeting.objects.filter(pk=route["id"]).first()
        for person in _queue_people(meeting) if meeting else []:
            if by is not None and person.pk == by.pk:
                continue
            transaction.on_commit(
                lambda person=person, meeting=meeting: notify(
                    user=person,
                    kind="escalation_queue",
                    title=f"Flagged in {meeting.name}: {cta.account.name} — {cta.reason}",
                    body=escalation.reason,
                    url=_url(escalation),
                    dedupe_key=f"esc-queue:{escalation.pk}:{person.pk}",
                )
            )
    suggestions_refresh(escalation)
    return escalation


def _notify_level(escalation: Escalation, by: User | None, level: int, title: str, body: str):
    """Tell the people at ``level`` plus the CTA owner and their lead (not the actor)."""
    cta = escalation.cta
    people = {p.pk: p for p in rules.level_people(level, cta)}
    for person in (cta.owner, cta.owner.team.lead if cta.owner.team_id else None):
        if person is not None:
            people.setdefault(person.pk, person)
    stamp = clock.now().strftime("%Y%m%d%H%M%S")
    for person in people.values():
        if by is not None and person.pk == by.pk:
            continue
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="escalated",
                title=title,
                body=body,
                url=_url(escalation),
                dedupe_key=f"escalated:{escalation.pk}:{level}:{stamp}:{person.pk}",
            )
        )


@transaction.atomic
def escalation_escalate(
    *,
    escalation: Escalation,
    by: User | None,
    level: int,
    reason: str,
    automatic: bool = False,
) -> Escalation:
    """Move an open escalation up to ``level``; the people there are told at once."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it needs to go higher."})
    if level not in Level.values:
        raise ValidationError({"level": f"Use one of {Level.values}."})
    escalation = _locked(escalation)
    if not escalation.is_open:
        raise ValidationError("This escalation is resolved; flag the CTA again to reopen.")
    if level <= escalation.level:
        raise ValidationError({"level": f"It is at level {escalation.level} already."})
    if by is not None and not rules.can_escalate(by, escalation, level):
        allowed = rules.max_level_for(by)
        raise PermissionDenied(
            rules.raised_by_sentence(level, allowed)
            if level > allowed
            else "You may not escalate this CTA: it is not yours, your team's or at your level."
        )
    config = rules.levels()
    now = clock.now()
    before = escalation.level
    escalation.level = level
    escalation.level_since = now
    escalation.deadline_at = _deadline(level, now, config)
    escalation.acknowledged_at = None
    escalation.acknowledged_by = None
    escalation.reminded_at = None
    escalation.save()
    Suggestion.objects.filter(
        escalation=escalation, status=SuggestionStatus.OPEN, level__lte=level
    ).update(status=SuggestionStatus.OVERTAKEN, decided_at=now)
    action = StepAction.AUTO_ESCALATED if automatic else StepAction.ESCALATED
    _step(escalation, by, action, from_level=before, to_level=level, reason=reason)
    cta = escalation.cta
    _notify_level(
        escalation,
        by,
        level,
        f"Escalated to level {level}: {cta.account.name} — {cta.reason}",
        f"{_name(by)}: {reason}",
    )
    return escalation


@transaction.atomic
def escalation_de_escalate(
    *, escalation: Escalation, by: User, level: int, reason: str
) -> Escalation:
    """Hand an escalation back down (the level above has done what it can)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why it can go back down."})
    escalation = _locked(escalation)
    if not rules.can_de_escalate(by, escalation):
        raise PermissionDenied("Only the people at this level (or the VP and CEO) hand it down.")
    if level not in Level.values or level >= escalation.level:
        raise ValidationError({"level": f"Choose a level below {escalation.level}."})
    config = rules.levels()
    now = clock.now()
    before = escalation.level
    escalation.level = level
    escalation.level_since = now
    escalation.deadline_at = _deadline(level, now, config)
    # The level it returns to knows the case: it needs no new acknowledgement deadline.
    escalation.acknowledged_at = now
    escalation.acknowledged_by = by
    escalation.reminded_at = None
    escalation.save()
    _step(escalation, by, StepAction.DE_ESCALATED, from_level=before, to_level=level, reason=reason)
    cta = escalation.cta
    _notify_level(
        escalation,
        by,
        level,
        f"Back to level {level}: {cta.account.name} — {cta.reason}",
        f"{_name(by)}: {reason}",
    )
    return escalation


@transaction.atomic
def escalation_acknowledge(*, escalation: Escalation, by: User, note: str = "") -> Escalation:
    """The current level has seen it: the deadline stops, no reminder, no automatic move."""
    escalation = _locked(escalation)
    if not escalation.is_open:
        raise ValidationError("This escalation is resolved.")
    if escalation.acknowledged_at is not None:
        raise ValidationError(
            f"Already acknowledged by {_name(escalation.acknowledged_by)} at level "
            f"{escalation.level}."
        )
    if not rules.can_acknowledge(by, escalation):
        raise PermissionDenied(f"Only the people at level {escalation.level} acknowledge it.")
    escalation.acknowledged_at = clock.now()
    escalation.acknowledged_by = by
    escalation.save(update_fields=["acknowledged_at", "acknowledged_by"])
    _step(escalation, by, StepAction.ACKNOWLEDGED, reason=note.strip()[:1000])
    return escalation


@transaction.atomic
def escalation_resolve(*, escalation: Escalation, by: User, reason: str) -> Escalation:
    """Done: the escalation closes and the CTA is unflagged (its area is no longer forced
    red; an open manual risk CTA still holds it yellow)."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say how it was resolved."})
    escalation = _locked(escalation)
    if not rules.can_resolve(by, escalation):
        raise PermissionDenied("Whoever works this CTA (owner, team lead, VP, CEO) resolves it.")
    _close(escalation, by, reason)
    cta = escalation.cta
    if cta.flagged:
        cta_services.cta_unflag(cta=cta, by=by, reason=f"Escalation resolved: {reason}")
    _notify_level(
        escalation,
        by,
        escalation.level,
        f"Resolved: {cta.account.name} — {cta.reason}",
        f"{_name(by)}: {reason}",
    )
    return escalation


def _close(escalation: Escalation, by: User | None, reason: str) -> None:
    escalation.status = EscalationStatus.RESOLVED
    escalation.resolved_at = clock.now()
    escalation.resolved_by = by
    escalation.resolution = reason
    escalation.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    Suggestion.objects.filter(escalation=escalation, status=SuggestionStatus.OPEN).delete()
    _step(escalation, by, StepAction.RESOLVED, from_level=escalation.level, reason=reason)


@transaction.atomic
def escalation_release(*, cta: Cta, by: User | None, reason: str) -> Escalation | None:
    """The CTA was unflagged or closed: its open escalation (if any) is resolved."""
    escalation = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if escalation is None:
        return None
    escalation = _locked(escalation)
    _close(escalation, by, reason or "CTA unflagged")
    return escalation


def escalation_commented(*, cta: Cta, by: User, body: str, mentioned: list[User]) -> None:
    """A comment on an escalated CTA is on its timeline; an @mention of someone who sits at
    a higher level escalates to that level ("escalate to me by mentioning me") — as far
    as the author may escalate."""
    escalation = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if escalation is None:
        return
    _step(escalation, by, StepAction.COMMENTED, reason=body[:500])
    if not mentioned:
        return
    config = rules.levels()
    target = max((rules.level_of(p, cta, config) for p in mentioned), default=0)
    target = min(target, rules.max_level_for(by, config))
    if target > escalation.level and rules.can_escalate(by, escalation, target):
        names = ", ".join(f"@{p.username}" for p in mentioned)
        escalation_escalate(
            escalation=escalation,
            by=by,
            level=target,
            reason=f"Mentioned {names} in the chatter: {body[:200]}",
        )


# --- suggestions -----------------------------------------------------------------------


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
                f"{_name(tie.person)} (CEO) has a prior relationship: "
                f"{tie.get_kind_display().lower()}{' — ' + tie.note if tie.note else ''}.",
            )
        )
    return found


def _edm_change(account_id: int, since: dt.date) -> str:
    """A sentence when the executive decision maker left or changed title since ``since``."""
    edm = ContactRole.EXECUTIVE_DECISION_MAKER
    for change in PeopleChange.objects.filter(
        account_id=account_id,
        change__in=[PeopleChangeKind.LEFT, PeopleChangeKind.TITLE_CHANGED],
        occurred_at__date__gte=since,
    ).select_related("contact")[:20]:
        if edm in (change.roles or []) or (change.contact and change.contact.is_edm):
            who = change.contact.name if change.contact else "The executive decision maker"
            what = (
                "left the company"
                if change.change == PeopleChangeKind.LEFT
                else f"changed title ({change.old_title} → {change.new_title})"
            )
            return f"Executive decision maker {who} {what} on {change.occurred_at:%b %d}."
    for contact in Contact.objects.filter(
        account_id=account_id, at_company=False, left_on__gte=since
    ):
        if contact.is_edm:
            return f"Executive decision maker {contact.name} left on {contact.left_on:%b %d}."
    for change in ContactTitleChange.objects.filter(
        contact__account_id=account_id, changed_on__gte=since
    ).select_related("contact"):
        if change.contact.is_edm:
            return (
                f"Executive decision maker {change.contact.name} changed title "
                f"({change.old_title} → {change.new_title}) on {change.changed_on:%b %d}."
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
            _step(escalation, None, StepAction.SUGGESTED, to_level=level, reason=reason[:300])
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
    _step(
        suggestion.escalation,
        by,
        StepAction.SUGGESTION_DISMISSED,
        to_level=suggestion.level,
        reason=f"{suggestion.reason}" + (f" — {suggestion.note}" if suggestion.note else ""),
    )
    return suggestion


# --- deadlines (beat) ------------------------------------------------------------------


def sweep() -> dict[str, int]:
    """Every few minutes: open what a lost event left unopened, remind levels that missed
    their deadline, move up the ones configured to, refresh suggestions. Idempotent."""
    counts = {"opened": 0, "reminded": 0, "auto_escalated": 0, "suggested": 0}
    for cta in Cta.objects.filter(flagged=True, status__in=LIVE_STATUSES).exclude(
        escalations__status=EscalationStatus.OPEN
    ):
        escalation_open(cta=cta, by=None, reason=cta.flag_reason or cta.reason)
        counts["opened"] += 1
    now = clock.now()
    config = rules.levels()
    late = Escalation.objects.filter(
        status=EscalationStatus.OPEN, acknowledged_at__isnull=True, deadline_at__lt=now
    ).select_related("cta__owner__team__lead", "cta__account", "account")
    for escalation in late:
        after = (
            config[escalation.level].escalate_after_business_days
            if escalation.level in config
            else None
        )
        if (
            after is not None
            and escalation.level < TOP
            and clock.add_business_days(escalation.deadline_at, float(after)) <= now
        ):
            if _auto_escalate(escalation):
                counts["auto_escalated"] += 1
        elif escalation.reminded_at is None and _remind(escalation):
            counts["reminded"] += 1
    # Suggestions follow the data (a habits score turning red, a renewal coming closer):
    # look again at each open escalation hourly, a bounded batch per sweep.
    stale = Q(checked_at__isnull=True) | Q(checked_at__lt=now - SUGGESTION_RECHECK)
    for escalation in (
        Escalation.objects.filter(stale, status=EscalationStatus.OPEN, level__lt=TOP)
        .select_related("cta", "account")
        .order_by("checked_at", "pk")[:SWEEP_BATCH]
    ):
        counts["suggested"] += len(suggestions_refresh(escalation))
    return counts


@transaction.atomic
def _remind(escalation: Escalation) -> bool:
    claimed = Escalation.objects.filter(
        pk=escalation.pk, reminded_at__isnull=True, acknowledged_at__isnull=True
    ).update(reminded_at=clock.now())
    if not claimed:
        return False
    cta = escalation.cta
    _step(
        escalation,
        None,
        StepAction.REMINDED,
        reason=f"Not acknowledged at level {escalation.level} by "
        f"{escalation.deadline_at:%b %d %H:%M}.",
    )
    for person in rules.level_people(escalation.level, cta):
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind="escalation_reminder",
                title=f"Waiting for you (level {escalation.level}): {cta.account.name}",
                body=f"{cta.reason} — {escalation.reason}",
                url=_url(escalation),
                dedupe_key=f"esc-remind:{escalation.pk}:{escalation.level}:"
                f"{escalation.level_since:%Y%m%d%H%M%S}:{person.pk}",
            )
        )
    return True


def _auto_escalate(escalation: Escalation) -> bool:
    try:
        escalation_escalate(
            escalation=escalation,
            by=None,
            level=escalation.level + 1,
            reason=f"Level {escalation.level} did not acknowledge by "
            f"{escalation.deadline_at:%b %d %H:%M}.",
            automatic=True,
        )
    except ValidationError:  # resolved or moved meanwhile
        return False
    return True


# --- agendas ---------------------------------------------------------------------------


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
        _step(
            item.escalation,
            by,
            StepAction.COMMENTED,
            reason=f"{meeting.name} ({date:%b %d}): {review.outcome}"
            + (f" Next: {review.next_step}" if review.next_step else ""),
        )
    return review
