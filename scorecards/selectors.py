"""Reads for scorecards: the facts as DataFrames, and scorecards shaped for pages and API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.db.models import Model, QuerySet

from accounts.choices import LifecycleStage
from accounts.models import (
    Account,
    CompetitorEvent,
    Contact,
    ContactTitleChange,
    Milestone,
    PeopleChange,
    ReadinessAssessment,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from scorecards.choices import AreaCode
from scorecards.compute import AreaInfo
from scorecards.measures import COLOR_RANK, DEFAULT_THRESHOLDS, Frames, Threshold
from scorecards.models import Area, AreaScore, ColorChange, MeasureConfig

TIMESTAMPS = {"opened_at", "solved_at", "responded_at", "occurred_at"}


def _frame(qs: QuerySet[Model], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(list(qs.values_list(*columns)), columns=columns)
    for col in TIMESTAMPS & set(columns):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def load_frames(account_ids: list[int], now: dt.datetime) -> Frames:
    """Every fact the measures read for these accounts: one query per table."""
    ids = list(account_ids)
    horizon = now - dt.timedelta(days=400)  # the longest window any measure looks back

    def of(model: type[Model]) -> QuerySet[Model]:
        return model.objects.filter(account_id__in=ids)

    return Frames(
        now=pd.Timestamp(now).tz_convert("UTC"),
        account_ids=ids,
        tickets=_frame(
            of(Ticket).filter(opened_at__gte=horizon)
            | of(Ticket).filter(status__in=["new", "open", "pending"]),
            [
                "id",
                "account_id",
                "kind",
                "priority",
                "status",
                "tags",
                "requester_group",
                "opened_at",
                "solved_at",
            ],
        ),
        usage=_frame(
            of(UsageSnapshot).filter(week__gte=(now - dt.timedelta(days=120)).date()),
            ["account_id", "week", "active_users", "licensed_users", "adoption"],
        ),
        sentiment=_frame(
            of(SentimentResponse).filter(responded_at__gte=horizon),
            ["id", "account_id", "responded_at", "nps", "csat"],
        ),
        contacts=_frame(
            of(Contact), ["id", "account_id", "name", "title", "roles", "at_company", "left_on"]
        ),
        title_changes=_frame(
            ContactTitleChange.objects.filter(contact__account_id__in=ids),
            ["id", "contact_id", "contact__account_id", "old_title", "new_title", "changed_on"],
        ).rename(columns={"contact__account_id": "account_id"}),
        people=_frame(
            of(PeopleChange).filter(occurred_at__gte=horizon),
            [
                "id",
                "account_id",
                "contact_id",
                "change",
                "occurred_at",
                "roles",
                "old_title",
                "new_title",
                "from_company",
            ],
        ),
        competitors=_frame(
            of(CompetitorEvent).filter(occurred_at__gte=horizon),
            ["id", "account_id", "competitor", "activity", "occurred_at"],
        ),
        milestones=_frame(of(Milestone), ["id", "account_id", "name", "due_on", "completed_on"]),
        readiness=_frame(
            of(ReadinessAssessment),
            ["id", "account_id", "assessed_on", "data", "skills", "staffing"],
        ),
    )


def thresholds() -> list[Threshold]:
    """Configured thresholds; a measure without a config row keeps its code default."""
    configured = {
        c.code: Threshold(
            code=c.code,
            area=c.area,
            label=c.label,
            yellow_at=c.yellow_at,
            red_at=c.red_at,
            higher_is_worse=c.higher_is_worse,
            best=c.best,
            window_days=c.window_days,
            params=c.params or {},
            enabled=c.enabled,
        )
        for c in MeasureConfig.objects.all()
    }
    return [configured.get(t.code, t) for t in DEFAULT_THRESHOLDS]


def area_infos() -> list[AreaInfo]:
    rows = {a.code: a for a in Area.objects.all()}
    return [
        AreaInfo(
            code,
            rows[code].name if code in rows else label,
            rows[code].weight if code in rows else 10,
        )
        for code, label in AreaCode.choices
    ]


def active_account_ids() -> list[int]:
    return list(
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- history and trend --------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """How a colour moved: vs 7 and 30 days ago, "better", "worse" or "same"."""

    week: str
    month: str


def _direction(then: str | None, now: str) -> str:
    if not then or then == now:
        return "same"
    return "worse" if COLOR_RANK[now] > COLOR_RANK[then] else "better"


def trends(
    account_ids: Iterable[int], current: dict[tuple[int, str], str], now: dt.datetime
) -> dict[tuple[int, str], Trend]:
    """Trend per (account, area/'overall') from one query over the last 30 days of changes.

    The colour at time T is the ``from_color`` of the first change after T, or the current
    colour when nothing changed since T.
    """
    since = now - dt.timedelta(days=30)
    changes: dict[tuple[int, str], list[tuple[dt.datetime, str]]] = {}
    for account_id, area, at, from_color in (
        ColorChange.objects.filter(account_id__in=list(account_ids), at__gt=since)
        .order_by("at", "pk")
        .values_list("account_id", "area", "at", "from_color")
    ):
        changes.setdefault((account_id, area), []).append((at, from_color))

    def color_at(key: tuple[int, str], when: dt.datetime) -> str | None:
        for at, from_color in changes.get(key, []):
            if at > when:
                return from_color or None
        return current[key]

    return {
        key: Trend(
            _direction(color_at(key, now - dt.timedelta(days=7)), color),
            _direction(color_at(key, since), color),
        )
        for key, color in current.items()
    }


def history(account_id: int) -> list[ColorChange]:
    """An account's colour changes, oldest first (one account's history is small)."""
    return list(ColorChange.objects.filter(account_id=account_id).order_by("at", "pk"))


def area_scores(account_id: int) -> dict[str, AreaScore]:
    return {s.area: s for s in AreaScore.objects.filter(account_id=account_id)}
