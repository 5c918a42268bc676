"""Writes for the executive-sponsor program (PRODUCT.md, "Executive sponsor program").

Sponsors detect executive-level problems that rules and CSMs miss; they are not the
escalation path (that is a flag and its levels). Every assignment, reassignment and
removal is audited; check-ins are created by the beat job, idempotently per slot.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import Account
from csrisk import audit, clock, events
from csrisk.models import User
from csrisk.notifications import notify
from ctas import services as ctas
from ctas.choices import LIVE_STATUSES, CtaType, Outcome, Priority, Source
from ctas.models import Cta, CtaTask, Playbook
from scorecards.choices import AreaCode
from sponsors import rules, selectors
from sponsors.models import CheckIn, HelpRequest, Program, Sentiment, Sponsorship

ASSIGN_REASON = "Assign an executive sponsor"
CHECKIN_PLAYBOOK = "Sponsor check-in"


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _name(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user else "csrisk"


# --- assignment -------------------------------------------------------------------------


@transaction.atomic
def sponsorship_assign(
    *,
    account: Account,
    sponsor: User,
    by: User,
    reason: str = "",
    force: bool = False,
    program: Program | None = None,
) -> Sponsorship:
    """Make ``sponsor`` the account's sponsor (ending the current one). Refused when it
    would put them over capacity, unless a VP overrules with ``force``."""
    if not rules.can_assign_sponsor(by, account):
        raise PermissionDenied("Team leads (for their teams), the VP and the CEO assign sponsors.")
    if not rules.may_sponsor(sponsor):
        raise ValidationError({"sponsor": f"{_name(sponsor)} is not an active executive."})
    program = program or Program.current()
    Account.objects.select_for_update().filter(pk=account.pk).first()  # one assignment at a time
    current = Sponsorship.objects.filter(account=account, ended_on=None).first()
    if current is not None and current.sponsor_id == sponsor.pk:
        raise ValidationError({"sponsor": f"{_name(sponsor)} already sponsors {account.name}."})
    over = False
    if program is not None:
        loads = selectors.loads(program)
        load = loads.get(sponsor.pk, selectors.Load.empty(sponsor, program))
        after = load.calls + program.calls_per_week(account.tier)
        if after > load.capacity:
            if not (force and rules.can_overrule_capacity(by)):
                raise ValidationError(
                    {
                        "sponsor": (
                            f"{_name(sponsor)} would carry {after:.2f} calls a week, over their "
                            f"capacity of {load.capacity:.2f}. Choose someone with room"
                            + (
                                ", or overrule (you are allowed to)."
                                if rules.can_overrule_capacity(by)
                                else "; only the VP may overrule capacity."
                            )
                        )
                    }
                )
            over = True
    today = clock.today()
    if current is not None:
        _end(current, by, f"Replaced by {_name(sponsor)}" + (f": {reason}" if reason else ""))
    sponsorship = Sponsorship.objects.create(
        account=account,
        sponsor=sponsor,
        started_on=today,
        assigned_by=by,
        reason=reason.strip()[:300],
        over_capacity=over,
    )
    audit.record(
        actor=by,
        action="sponsor.reassigned" if current else "sponsor.assigned",
        target=sponsorship,
        account_id=account.pk,
        changes={"sponsor": (current.sponsor if current else None, sponsor)},
        reason=reason + (" (over capacity, overruled)" if over else ""),
    )
    _finish_assign_tasks(account, by)
    transaction.on_commit(
        lambda: notify(
            user=sponsor,
            kind="sponsor_assigned",
            title=f"You now sponsor {account.name}",
            body=f"{_name(by)} assigned you as executive sponsor. {reason}".strip(),
            url=reverse("accounts:detail", args=[account.pk]) + "#sponsor",
            dedupe_key=f"sponsor-assigned:{sponsorship.pk}",
        )
    )
    return sponsorship


def _end(sponsorship: Sponsorship, by: User | None, reason: str) -> None:
    sponsorship.ended_on = clock.today()
    sponsorship.save(update_fields=["ended_on"])
    audit.record(
        actor=by,
        action="sponsor.removed",
        target=sponsorship,
        account_id=sponsorship.account_id,
        changes={"sponsor": (sponsorship.sponsor, None)},
        reason=reason,
    )


@transaction.atomic
def sponsorship_end(*, sponsorship: Sponsorship, by: User, reason: str) -> Sponsorship:
    if not rules.can_assign_sponsor(by, sponsorship.account):
        raise PermissionDenied("Team leads (for their teams), the VP and the CEO remove sponsors.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the sponsorship ends."})
    locked = Sponsorship.objects.select_for_update().get(pk=sponsorship.pk)
    if locked.ended_on is not None:
        raise ValidationError("This sponsorship has ended already.")
    _end(locked, by, reason.strip())
    return locked


def _finish_assign_tasks(account: Account, by: User) -> None:
    """An assignment completes the open "assign an executive sponsor" work on the account."""
    tasks = CtaTask.objects.filter(
        cta__account=account,
        cta__status__in=LIVE_STATUSES,
        title=ASSIGN_REASON,
        done_at__isnull=True,
    )
    tasks.update(done_at=clock.now(), done_by=by)
    for cta in Cta.objects.filter(
        account=account, reason=ASSIGN_REASON, source=Source.RULE, status__in=LIVE_STATUSES
    ):
        ctas.cta_close(cta=cta, by=by, outcome=Outcome.DONE, note="Sponsor assigned")


# --- eligibility ------------------------------------------------------------------------


def eligibility_check(account_ids: list[int] | None = None) -> int:
    """Eligible accounts without a sponsor get a CTA for their team lead to assign one,
    unless the new-customer playbook's task already asks for it. De-duplicated while live."""
    program = Program.current()
    if program is None:
        return 0
    qs = selectors.eligible(program).exclude(
        pk__in=Sponsorship.objects.filter(ended_on=None).values("account_id")
    )
    if account_ids is not None:
        qs = qs.filter(pk__in=account_ids)
    pending_tasks = set(
        CtaTask.objects.filter(
            title=ASSIGN_REASON, done_at__isnull=True, cta__status__in=LIVE_STATUSES
        ).values_list("cta__account_id", flat=True)
    )
    opened = 0
    for account in qs.select_related("owner__team__lead", "team__lead"):
        if account.pk in pending_tasks:
            continue
        lead = _lead_for(account)
        if lead is None:
            continue
        before = Cta.objects.filter(
            account=account, reason=ASSIGN_REASON, source=Source.RULE, status__in=LIVE_STATUSES
        ).exists()
        if before:
            continue
        cta = ctas.cta_create(
            account=account,
            by=None,
            reason=ASSIGN_REASON,
            type=CtaType.LIFECYCLE,
            owner=lead,
            priority=Priority.MEDIUM,
            source=Source.RULE,
            description=(
                f"{account.name} ({account.get_tier_display()}, ARR {account.arr:,.0f}) is "
                f"eligible for an executive sponsor in {program.name}. The account page ranks "
                "candidates by prior relationship, fit and free capacity."
            ),
        )
        ctas.task_add(cta=cta, by=lead, title=ASSIGN_REASON, owner=lead)
        opened += 1
    return opened


def _lead_for(account: Account) -> User | None:
    team = account.team or (account.owner.team if account.owner else None)
    return team.lead if team and team.lead_id and team.lead.is_active else None


# --- check-ins --------------------------------------------------------------------------


def slot_bounds(program: Program, tier: str, index: int) -> tuple[dt.date, dt.date]:
    """Slot ``index`` of a tier's cadence: its first day and its due date (its last day)."""
    months = program.cadence_months(tier) or 1
    start = add_months(program.starts_on, index * months)
    due = add_months(program.starts_on, (index + 1) * months) - dt.timedelta(days=1)
    return start, min(due, program.ends_on)


def slot_of(program: Program, tier: str, on: dt.date) -> int | None:
    """The index of the cadence slot ``on`` falls in (None outside the program)."""
    months = program.cadence_months(tier)
    if not months or not (program.starts_on <= on <= program.ends_on):
        return None
    index = 0
    while add_months(program.starts_on, (index + 1) * months) <= on:
        index += 1
    return index


def checkins_create_due(on: dt.date | None = None) -> int:
    """Create the current slot's check-in CTA for every sponsored, eligible account that has
    none. Idempotent (one per account, program and slot), and after downtime it catches up
    with the slot that is due now (past slots are not back-filled: a stale call is noise)."""
    on = on or clock.today()
    program = Program.current(on)
    if program is None:
        return 0
    made = 0
    for sponsorship in (
        Sponsorship.objects.filter(ended_on=None, account__in=selectors.eligible(program))
        .select_related("account", "sponsor")
        .order_by("pk")
    ):
        index = slot_of(program, sponsorship.account.tier, on)
        if index is None:
            continue
        if CheckIn.objects.filter(
            account=sponsorship.account, program=program, slot=index
        ).exists():
            continue
        if checkin_create(sponsorship=sponsorship, program=program, index=index):
            made += 1
    return made


@transaction.atomic
def checkin_create(*, sponsorship: Sponsorship, program: Program, index: int) -> CheckIn | None:
    """The check-in CTA of one slot (None when that slot has one already)."""
    start, due = slot_bounds(program, sponsorship.account.tier, index)
    playbook = Playbook.objects.filter(name=CHECKIN_PLAYBOOK).first()
    account = sponsorship.account
    cta = ctas.cta_create(
        account=account,
        by=None,
        reason=f"Sponsor check-in {start:%b %Y}",
        type=CtaType.SPONSOR_CHECKIN,
        owner=sponsorship.sponsor,
        due_date=due,
        source=Source.PROGRAM,
        playbook=playbook,
        description=f"{program.name}: a 30-minute call with the customer's executive.",
    )
    try:
        with transaction.atomic():
            checkin = CheckIn.objects.create(
                cta=cta,
                sponsorship=sponsorship,
                account=account,
                program=program,
                slot=index,
                slot_start=start,
                due_date=due,
            )
    except IntegrityError:  # another run made this slot's check-in first
        transaction.set_rollback(True)
        return None
    edm = selectors.edm_contact(account)
    questions = selectors.checkin_questions(playbook)
    if edm is not None:
        who = f"Write to {edm.name}" + (f", {edm.title}" if edm.title else "")
        who += f" ({edm.email})." if edm.email else " (no e-mail on record)."
    else:
        who = (
            f"Warning: {account.name} has no Executive Decision Maker contact on record — "
            "ask the CSM who to call."
        )
    body = who + "\n\nQuestions:\n" + "\n".join(f"- {q}" for q in questions)
    transaction.on_commit(
        lambda: notify(
            user=sponsorship.sponsor,
            kind="sponsor_checkin",
            title=f"Check-in due with {account.name} by {due:%b %d}",
            body=body,
            url=reverse("cockpit:cta", args=[cta.pk]),
            dedupe_key=f"checkin:{checkin.pk}",
        )
    )
    return checkin


@transaction.atomic
def checkin_log(
    *,
    checkin: CheckIn,
    by: User,
    notes: str,
    sentiment: str,
    risks: list[dict[str, Any]] | None = None,
) -> CheckIn:
    """Record the call: notes, sentiment, risks found (each may become a risk CTA)."""
    if not rules.can_log_checkin(by, checkin):
        raise PermissionDenied("The sponsor logs their check-in.")
    if sentiment not in Sentiment.values:
        raise ValidationError({"sentiment": f"Use one of {Sentiment.values}."})
    if not notes.strip():
        raise ValidationError({"notes": "Write what you heard."})
    clean_risks = []
    for i, risk in enumerate(risks or []):
        area = (risk.get("area") or "").strip()
        description = (risk.get("description") or "").strip()
        if not description:
            continue
        if area not in AreaCode.values:
            raise ValidationError({"risks": f"Risk {i + 1}: choose one of the eight areas."})
        clean_risks.append({"area": area, "description": description[:200], "cta": None})
    locked = CheckIn.objects.select_for_update().select_related("cta").get(pk=checkin.pk)
    if locked.is_logged:
        raise ValidationError("This check-in is logged already.")
    locked.logged_at = clock.now()
    locked.logged_by = by
    locked.notes = notes.strip()
    locked.sentiment = sentiment
    locked.risks = clean_risks
    locked.save()
    audit.record(
        actor=by,
        action="sponsor.checkin_logged",
        target=locked,
        account_id=locked.account_id,
        changes={"sentiment": (None, sentiment)},
        reason=f"{len(clean_risks)} risk(s) found",
    )
    events.emit(
        events.checkin_logged,
        checkin_id=locked.pk,
        cta_id=locked.cta_id,
        account_id=locked.account_id,
        by_id=by.pk,
        sentiment=sentiment,
        risks=len(clean_risks),
        at=locked.logged_at,
    )
    # The call is held and logged: the check-in playbook's tasks are done with it.
    CtaTask.objects.filter(cta=locked.cta, done_at__isnull=True).update(
        done_at=locked.logged_at, done_by=by
    )
    if locked.cta.status in LIVE_STATUSES:
        ctas.cta_close(
            cta=locked.cta,
            by=by,
            outcome=Outcome.DONE,
            note=f"Check-in logged ({sentiment}); {len(clean_risks)} risk(s) found.",
        )
    return locked


@transaction.atomic
def checkin_open_risk(*, checkin: CheckIn, index: int, by: User) -> Cta:
    """One click: a risk the sponsor found becomes a risk CTA in its area, for the CSM."""
    locked = CheckIn.objects.select_for_update().select_related("account").get(pk=checkin.pk)
    if not (rules.can_log_checkin(by, locked) or rules.can_ask_for_help(by, locked.account)):
        raise PermissionDenied("The sponsor, the account's CSM, their lead or the VP do this.")
    if not 0 <= index < len(locked.risks):
        raise ValidationError("No such risk on this check-in.")
    risk = dict(locked.risks[index])
    if risk.get("cta"):
        return Cta.objects.get(pk=risk["cta"])
    account = locked.account
    cta = ctas.cta_create(
        account=account,
        by=None,
        reason=f"Sponsor found: {risk['description']}"[:200],
        type=CtaType.RISK,
        area=risk["area"],
        owner=account.owner or by,
        priority=Priority.HIGH,
        source=Source.PROGRAM,
        description=f"From {_name(locked.logged_by)}'s check-in of {locked.slot_start:%b %Y}: "
        f"{locked.notes[:1000]}",
    )
    risks = list(locked.risks)
    risks[index] = {**risk, "cta": cta.pk}
    locked.risks = risks
    locked.save(update_fields=["risks"])
    audit.record(
        actor=by,
        action="sponsor.risk_opened",
        target=locked,
        account_id=account.pk,
        reason=risk["description"],
    )
    return cta


def checkins_chase_overdue(on: dt.date | None = None) -> int:
    """Overdue check-ins: the account's team lead is told once."""
    on = on or clock.today()
    told = 0
    for checkin in CheckIn.objects.filter(
        logged_at__isnull=True,
        due_date__lt=on,
        lead_told_at__isnull=True,
        cta__status__in=LIVE_STATUSES,
    ).select_related("account__owner__team__lead", "account__team__lead", "cta__owner"):
        lead = _lead_for(checkin.account)
        claimed = CheckIn.objects.filter(pk=checkin.pk, lead_told_at__isnull=True).update(
            lead_told_at=clock.now()
        )
        if not claimed or lead is None:
            continue
        notify(
            user=lead,
            kind="sponsor_checkin_overdue",
            title=f"Sponsor check-in overdue: {checkin.account.name}",
            body=f"{_name(checkin.cta.owner)} has not logged the check-in due "
            f"{checkin.due_date:%b %d}.",
            url=reverse("cockpit:cta", args=[checkin.cta_id]),
            dedupe_key=f"checkin-overdue:{checkin.pk}",
        )
        told += 1
    return told


# --- help requests ----------------------------------------------------------------------


@transaction.atomic
def help_request_create(*, account: Account, by: User, context: str) -> HelpRequest:
    """Ask the account's sponsor for help: a CTA for them, counted in their load."""
    if not rules.can_ask_for_help(by, account):
        raise PermissionDenied("The account's CSM, their team lead or the VP ask its sponsor.")
    if not context.strip():
        raise ValidationError({"context": "Tell the sponsor what you need and why."})
    sponsorship = Sponsorship.objects.filter(account=account, ended_on=None).first()
    if sponsorship is None:
        raise ValidationError(f"{account.name} has no sponsor; assign one first.")
    cta = ctas.cta_create(
        account=account,
        by=None,
        reason=f"Help requested by {_name(by)}"[:200],
        type=CtaType.SPONSOR_HELP,
        owner=sponsorship.sponsor,
        priority=Priority.HIGH,
        source=Source.PROGRAM,
        description=context.strip(),
    )
    request = HelpRequest.objects.create(
        cta=cta,
        sponsorship=sponsorship,
        asked_by=by,
        context=context.strip(),
        created_at=clock.now(),
    )
    audit.record(
        actor=by,
        action="sponsor.help_requested",
        target=request,
        account_id=account.pk,
        reason=context.strip()[:500],
    )
    transaction.on_commit(
        lambda: notify(
            user=sponsorship.sponsor,
            kind="sponsor_help",
            title=f"{_name(by)} asks for your help with {account.name}",
            body=context.strip()[:1000],
            url=reverse("cockpit:cta", args=[cta.pk]),
            dedupe_key=f"sponsor-help:{request.pk}",
        )
    )
    return request
