"""Reads for the escalation chain: lists by level, agendas, timelines."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from accounts.models import Account
from csrisk import clock
from csrisk.models import User
from csrisk.roles import Role
from ctas.choices import LIVE_STATUSES, CtaType
from ctas.models import Cta
from escalation.choices import EscalationStatus, MeetingKind, StepAction, SuggestionStatus
from escalation.models import (
    AccountSuggestion,
    AgendaReview,
    Escalation,
    EscalationStep,
    Meeting,
    Suggestion,
)
from scorecards.measures import COLOR_RANK, DECLARED
from scorecards.models import AreaScore, Scorecard, ScorecardSettings
from scorecards.selectors import leadership_review, measure_verdicts


def escalations(**filters: Any) -> QuerySet[Escalation]:
    return Escalation.objects.filter(**filters).select_related(
        "cta__owner__team",
        "account__scorecard",
        "account__owner",
        "acknowledged_by",
        "opened_by",
    )


def default_level(user: User) -> int | None:
    """The level a person's escalation list opens on: the VP's 2, the CEO's 3, a lead's 1."""
    return {Role.VP_CS: 2, Role.CEO: 3, Role.TEAM_LEAD: 1}.get(user.role)


def escalation_list(
    user: User,
    *,
    level: int | None,
    status: str = EscalationStatus.OPEN,
    mine: bool = False,
) -> QuerySet[Escalation]:
    """Escalations, oldest deadline first; a team lead sees their teams' at level 1."""
    qs = escalations()
    if status:
        qs = qs.filter(status=status)
    if level:
        qs = qs.filter(level=level)
    if mine:
        led = user.led_team_ids()
        qs = qs.filter(Q(cta__owner=user) | Q(cta__owner__team__in=led))
    order = ["deadline_at", "pk"] if status == EscalationStatus.OPEN else ["-resolved_at", "-pk"]
    return with_level_reason(qs).order_by(*order)


LEVEL_MOVES = (StepAction.ESCALATED, StepAction.AUTO_ESCALATED, StepAction.DE_ESCALATED)


def with_level_reason(qs: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """Annotate ``level_reason``: why it is at its level now — the reason of the last move
    to that level (the lead's for 2, the VP's for 3), empty at a level 1 it never left
    (the flag's reason, ``Escalation.reason``, says why then). One subquery, any page."""
    last_move = EscalationStep.objects.filter(
        escalation=OuterRef("pk"), to_level=OuterRef("level"), action__in=LEVEL_MOVES
    ).order_by("-at", "-pk")
    return qs.annotate(level_reason=Subquery(last_move.values("reason")[:1]))


def open_for_ctas(cta_ids: list[int]) -> dict[int, Escalation]:
    """The open escalation of each CTA, with who acknowledged it (the deadline cell names
    them: a query per escalation otherwise)."""
    return {
        e.cta_id: e
        for e in Escalation.objects.filter(
            cta_id__in=cta_ids, status=EscalationStatus.OPEN
        ).select_related("acknowledged_by")
    }


def escalation_detail(cta: Cta) -> tuple[Escalation | None, list[Escalation]]:
    """The CTA's open escalation (with open suggestions) and its past ones."""
    all_ = list(
        Escalation.objects.filter(cta=cta)
        .select_related("acknowledged_by", "resolved_by", "opened_by")
        .prefetch_related(
            Prefetch("steps", queryset=EscalationStep.objects.select_related("by")),
            Prefetch(
                "suggestions",
                queryset=Suggestion.objects.filter(status=SuggestionStatus.OPEN),
                to_attr="open_suggestions",
            ),
        )
        .order_by("-opened_at", "-pk")
    )
    current = next((e for e in all_ if e.is_open), None)
    if current is not None:
        current.open_suggestions = [s for s in current.open_suggestions if s.level > current.level]
    return current, [e for e in all_ if not e.is_open]


def account_timeline(account: Account, limit: int = 50) -> list[EscalationStep]:
    return list(
        EscalationStep.objects.filter(escalation__account=account)
        .select_related("by", "escalation__cta")
        .order_by("-at", "-pk")[:limit]
    )


# --- meetings and agendas ----------------------------------------------------------------


def meeting_date(meeting: Meeting, today: dt.date) -> dt.date:
    """The meeting's next date (today when it meets today)."""
    if meeting.weekday is None:
        return today
    return today + dt.timedelta(days=(meeting.weekday - today.weekday()) % 7)


@dataclass
class AgendaItem:
    key: str
    kind: str  # flagged | renewal | red | resolved
    why: str
    account: Account
    cta: Cta | None = None
    escalation: Escalation | None = None
    review: AgendaReview | None = None
    areas: list[AreaScore] = field(default_factory=list)
    # What the measures say behind the item, worst first (``_signals``).
    signals: list[str] = field(default_factory=list)

    @property
    def overall(self) -> Scorecard | None:
        return getattr(self.account, "scorecard", None)

    @property
    def age_days(self) -> int | None:
        since = None
        if self.escalation is not None:
            since = self.escalation.opened_at
        elif self.cta is not None and self.cta.flagged_at:
            since = self.cta.flagged_at
        return (clock.now() - since).days if since else None


def _flagged(meeting: Meeting, today: dt.date) -> QuerySet[Cta]:
    q = Q()
    if meeting.areas:
        q |= Q(area__in=meeting.areas)
    if meeting.renewal_window_days is not None:
        # Renewal CTAs, and flagged CTAs of no area on accounts renewing in the window: a
        # flagged CTA of an area belongs to the meeting that owns the area (RACI), however
        # close its renewal (which reaches this meeting as "renews … and is red" anyway).
        q |= Q(type=CtaType.RENEWAL) | Q(
            area="",
            account__renewal_date__gte=today,
            account__renewal_date__lte=today + dt.timedelta(days=meeting.renewal_window_days),
        )
    if not q:
        return Cta.objects.none()
    return (
        Cta.objects.filter(q, flagged=True, status__in=LIVE_STATUSES)
        .select_related("account__scorecard", "account__owner", "owner", "flagged_by")
        .order_by("flagged_at", "pk")
    )


def agenda(meeting: Meeting, date: dt.date) -> list[AgendaItem]:
    """What the meeting reviews on ``date``: its flagged CTAs, upcoming renewals gone red,
    red scorecards above the leadership threshold, recently resolved escalations."""
    today = clock.today()
    items: dict[str, AgendaItem] = {}
    for cta in _flagged(meeting, today):
        why = f"Flagged {cta.get_area_display() or cta.get_type_display()} CTA"
        items[f"cta:{cta.pk}"] = AgendaItem(f"cta:{cta.pk}", "flagged", why, cta.account, cta)
    if meeting.renewal_window_days is not None:
        until = today + dt.timedelta(days=meeting.renewal_window_days)
        seen = {i.account.pk for i in items.values()}
        for account in (
            Account.objects.filter(renewal_date__gte=today, renewal_date__lte=until)
            .filter(scorecard__color="red")
            .exclude(pk__in=seen)
            .select_related("scorecard", "owner")
            .order_by("renewal_date", "pk")
        ):
            key = f"account:{account.pk}"
            items[key] = AgendaItem(key, "renewal", f"Renews {account.renewal_date:%b %d}", account)
    if meeting.red_scorecards:
        threshold: Decimal = ScorecardSettings.get().leadership_arr_threshold
        seen = {i.account.pk for i in items.values()}
        for card in leadership_review(threshold).exclude(account_id__in=seen):
            key = f"account:{card.account_id}"
            items[key] = AgendaItem(key, "red", f"Red: {card.reason}", card.account)
    if meeting.resolved_within_days is not None:
        since = clock.now() - dt.timedelta(days=meeting.resolved_within_days)
        resolved = escalations(status=EscalationStatus.RESOLVED, resolved_at__gte=since)
        if meeting.areas:  # a meeting of some areas learns from its own areas' escalations
            resolved = resolved.filter(cta__area__in=meeting.areas)
        for esc in resolved.order_by("-resolved_at"):
            key = f"escalation:{esc.pk}"
            items[key] = AgendaItem(
                key,
                "resolved",
                f"Resolved at level {esc.level}: {esc.resolution}",
                esc.account,
                esc.cta,
                esc,
            )
    _decorate(meeting, date, list(items.values()))
    return list(items.values())


def reviewed_dates(meeting: Meeting, limit: int = 12) -> list[dt.date]:
    """The latest dates ``meeting`` recorded outcomes on, newest first: its past agendas."""
    return list(
        AgendaReview.objects.filter(meeting=meeting)
        .values_list("date", flat=True)
        .distinct()
        .order_by("-date")[:limit]
    )


def _decorate(meeting: Meeting, date: dt.date, items: list[AgendaItem]) -> None:
    """Escalations, area colours and this date's reviews, in three queries; then what the
    measures say behind each item (``_signals``)."""
    open_escalations = open_for_ctas([i.cta.pk for i in items if i.cta and not i.escalation])
    account_ids = {i.account.pk for i in items}
    areas: dict[int, list[AreaScore]] = {}
    for score in AreaScore.objects.filter(account_id__in=account_ids).exclude(color="green"):
        areas.setdefault(score.account_id, []).append(score)
    reviews = {
        r.item_key: r
        for r in AgendaReview.objects.filter(meeting=meeting, date=date).select_related(
            "reviewed_by"
        )
    }
    for item in items:
        if item.cta is not None and item.escalation is None:
            item.escalation = open_escalations.get(item.cta.pk)
        item.areas = areas.get(item.account.pk, [])
        item.review = reviews.get(item.key)
    _signals([i for i in items if i.kind != "resolved"])


def _behind(item: AgendaItem) -> set[str]:
    """The areas behind an item: its CTA's, else the account's areas that are not green."""
    if item.cta is not None and item.cta.area:
        return {item.cta.area}
    return {a.area for a in item.areas}


def _signals(items: list[AgendaItem]) -> None:
    """Set each item's ``signals`` and lead its ``why`` with the worst: the sentences of the
    measures of the areas behind it that say yellow or red now — as the measures define
    them, with their configured thresholds (``measure_verdicts``), the one definition the
    scorecard, the rules and the summary read too. A fixed number of queries."""
    areas = {area for item in items for area in _behind(item)}
    codes = [m.code for m in DECLARED if m.area in areas]
    if not codes:
        return
    rows = measure_verdicts(codes, {i.account.pk for i in items}, clock.now())
    rows = rows[(rows["color"] != "green") & ~rows["no_data"].astype(bool)]
    if rows.empty:
        return
    rows = rows.assign(rank=rows["color"].map(COLOR_RANK)).sort_values(
        ["rank", "score"], ascending=[False, True], kind="stable"
    )
    said: dict[int, list[tuple[str, str]]] = {}
    for account_id, area, sentence in zip(
        rows["account_id"].tolist(), rows["area"].tolist(), rows["sentence"].tolist(), strict=True
    ):
        said.setdefault(int(account_id), []).append((area, sentence))
    for item in items:
        behind = _behind(item)
        item.signals = [s for area, s in said.get(item.account.pk, []) if area in behind]
        if item.signals:  # a red item's stored reason gives way to what the measures say now
            lead = "Red" if item.kind == "red" else item.why
            item.why = f"{lead}: {item.signals[0]}"


def meetings() -> QuerySet[Meeting]:
    return Meeting.objects.filter(active=True).select_related("team")


def meeting_kinds() -> dict[str, list[Meeting]]:
    result: dict[str, list[Meeting]] = {MeetingKind.MEETING: [], MeetingKind.QUEUE: []}
    for m in meetings():
        result[m.kind].append(m)
    return result


# --- the VP's lane ------------------------------------------------------------------------

LANE_SIZE = 50


def level_two_lane(limit: int = LANE_SIZE) -> tuple[list[AccountSuggestion], int]:
    """Open level-2 suggestions of accounts not at level 2 yet (read now, so one raised
    since the last refresh leaves at once), biggest ARR first; and how many in all.
    ``open_level`` is the account's open escalation level (None: nothing flagged)."""
    open_level = (
        Escalation.objects.filter(account=OuterRef("account_id"), status=EscalationStatus.OPEN)
        .order_by("-level")
        .values("level")[:1]
    )
    qs = (
        AccountSuggestion.objects.filter(status=SuggestionStatus.OPEN, level=2)
        .exclude(account__lifecycle_stage="churned")
        .annotate(open_level=Subquery(open_level))
        .filter(Q(open_level__isnull=True) | Q(open_level__lt=2))
    )
    rows = list(
        qs.select_related("account__scorecard", "account__owner").order_by(
            "-account__arr", "account__renewal_date", "pk"
        )[:limit]
    )
    total = len(rows) if len(rows) < limit else qs.count()
    return rows, total
