"""Segment aggregates: the same leading signals read per segment and week, for books too big
to read account by account (PRODUCT.md: "adoption dropping across a band, the same
complaint across segments").

Formulas (the account-level ones of scorecards/measures.py, summed over a segment):

- **Velocity** at the end of week w: the velocity measure's formula, with its configured
  window W, floor and critical priorities (``scorecards`` "support.noncritical_velocity"),
  over the segment's tickets: n1 = non-critical support tickets opened in (end − W, end],
  n0 = in (end − 2W, end − W]; velocity = ``scorecards.measures.velocity(n1, n0, floor)``.
- **Adoption** in week w: the mean over the segment's accounts of active_users /
  licensed_users of that week's usage snapshot (and the mean key-feature adoption, 0–1).
- **Recurring complaints**: a ticket tag seen on support tickets of at least
  ``min_accounts`` different accounts in the last W days — with how many accounts and
  segments, so "the same complaint across segments" stands out.

The database does the counting (per segment and day, per segment and week); pandas does
the windows, so a page over millions of tickets reads a few hundred rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from django.db import connection

from accounts.choices import Segment
from scorecards.measures import critical_priorities, velocity, velocity_floor
from scorecards.selectors import measure_threshold

WINDOW_DAYS = 90  # recurring complaints: tags of the last W days
VELOCITY = "support.noncritical_velocity"


@dataclass
class SegmentTrend:
    segment: str
    label: str
    accounts: int
    weeks: list[dt.date]
    velocity: list[float]
    adoption: list[float | None]

    @property
    def velocity_now(self) -> float | None:
        return self.velocity[-1] if self.velocity else None

    @property
    def velocity_before(self) -> float | None:
        return self.velocity[-5] if len(self.velocity) >= 5 else None

    @property
    def adoption_now(self) -> float | None:
        return self.adoption[-1] if self.adoption else None

    @property
    def adoption_first(self) -> float | None:
        known = [a for a in self.adoption if a is not None]
        return known[0] if known else None


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def week_ends(now: dt.datetime, weeks: int) -> list[dt.date]:
    """The last ``weeks`` week ends (Sundays), the latest being the one on or before now."""
    today = now.date()
    last = today - dt.timedelta(days=(today.weekday() + 1) % 7)
    return [last - dt.timedelta(weeks=k) for k in reversed(range(weeks))]


def velocity_series(
    daily: pd.Series, ends: list[dt.date], window: int, floor: float
) -> list[float]:
    """Velocity at each week end from a series of ticket counts per day (date index)."""
    out = []
    for end in ends:
        recent = daily[(daily.index > end - dt.timedelta(days=window)) & (daily.index <= end)]
        before_mask = (daily.index > end - dt.timedelta(days=2 * window)) & (
            daily.index <= end - dt.timedelta(days=window)
        )
        n1, n0 = float(recent.sum()), float(daily[before_mask].sum())
        out.append(round(float(velocity(n1, n0, floor)), 3))
    return out


def segment_trends(*, now: dt.datetime, weeks: int = 12) -> list[SegmentTrend]:
    ends = week_ends(now, weeks)
    t = measure_threshold(VELOCITY)
    window, floor = t.window_days, velocity_floor(t)
    critical = critical_priorities(t) or [""]
    since = ends[0] - dt.timedelta(days=2 * window)
    placeholders = ",".join(["%s"] * len(critical))
    counts = _rows(
        f"""
        SELECT a.segment, DATE(t.opened_at), COUNT(*)
        FROM accounts_ticket t JOIN accounts_account a ON a.id = t.account_id
        WHERE t.kind = 'support' AND t.priority NOT IN ({placeholders})
          AND t.opened_at > %s AND t.opened_at <= %s
        GROUP BY a.segment, DATE(t.opened_at)
        """,
        [*critical, since, now],
    )
    usage = _rows(
        """
        SELECT a.segment, u.week,
               AVG(CAST(u.active_users AS REAL) / NULLIF(u.licensed_users, 0))
        FROM accounts_usagesnapshot u JOIN accounts_account a ON a.id = u.account_id
        WHERE u.week > %s AND u.week <= %s
        GROUP BY a.segment, u.week
        """,
        [ends[0] - dt.timedelta(days=7), ends[-1]],
    )
    sizes = dict(
        _rows(
            "SELECT segment, COUNT(*) FROM accounts_account "
            "WHERE lifecycle_stage <> 'churned' GROUP BY segment",
            [],
        )
    )
    by_segment: dict[str, dict] = {}
    for segment, day, n in counts:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        by_segment.setdefault(segment, {})[day] = n
    adoption: dict[str, dict] = {}
    for segment, week, value in usage:
        week = week if isinstance(week, dt.date) else dt.date.fromisoformat(str(week))
        adoption.setdefault(segment, {})[week] = float(value) if value is not None else None
    result = []
    for code, label in Segment.choices:
        if not sizes.get(code):
            continue
        daily = pd.Series(by_segment.get(code, {}), dtype=float)
        daily.index = pd.Index(list(daily.index), dtype=object)
        weekly = adoption.get(code, {})
        result.append(
            SegmentTrend(
                segment=code,
                label=label,
                accounts=sizes[code],
                weeks=ends,
                velocity=(
                    velocity_series(daily, ends, window, floor) if len(daily) else [0.0] * len(ends)
                ),
                adoption=[_week_value(weekly, end) for end in ends],
            )
        )
    return result


def _week_value(weekly: dict[dt.date, float | None], end: dt.date) -> float | None:
    """The snapshot of the week ending ``end`` (snapshots are dated by their Monday)."""
    monday = end - dt.timedelta(days=6)
    value = weekly.get(monday)
    return round(value, 3) if value is not None else None


@dataclass
class Complaint:
    tag: str
    accounts: int
    segments: list[str]
    tickets: int


def recurring_complaints(
    *, now: dt.datetime, min_accounts: int = 3, limit: int = 20
) -> list[Complaint]:
    """Tags on support tickets of at least ``min_accounts`` accounts in the last W days."""
    rows = _rows(
        """
        SELECT t.account_id, a.segment, t.tags
        FROM accounts_ticket t JOIN accounts_account a ON a.id = t.account_id
        WHERE t.kind = 'support' AND t.opened_at > %s AND t.opened_at <= %s
        """,
        [now - dt.timedelta(days=WINDOW_DAYS), now],
    )
    frame = pd.DataFrame(rows, columns=["account_id", "segment", "tags"])
    if frame.empty:
        return []
    frame["tags"] = frame["tags"].map(_tags)
    frame = frame.explode("tags").dropna(subset=["tags"])
    frame = frame[frame["tags"] != ""]
    if frame.empty:
        return []
    grouped = frame.groupby("tags").agg(
        accounts=("account_id", "nunique"),
        tickets=("account_id", "size"),
        segments=("segment", lambda s: sorted(set(s))),
    )
    grouped = grouped[grouped["accounts"] >= min_accounts].sort_values(
        ["accounts", "tickets"], ascending=False
    )
    labels = dict(Segment.choices)
    return [
        Complaint(
            tag=str(tag),
            accounts=int(row.accounts),
            segments=[labels.get(s, s) for s in row.segments],
            tickets=int(row.tickets),
        )
        for tag, row in grouped.head(limit).iterrows()
    ]


def _tags(value: object) -> list[str]:
    """Tags as stored: a JSON list (PostgreSQL hands over a list, SQLite a string)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, str) and value.startswith("["):
        import json

        try:
            parsed = json.loads(value)
        except ValueError:
            return []
        return [str(v) for v in parsed] if isinstance(parsed, list) else []
    return []


def sparkline(values: list[float | None], width: int = 120, height: int = 28) -> str:
    """An inline-SVG polyline's points for ``values`` (None gaps are skipped)."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    step = width / max(len(values) - 1, 1)
    points = [
        f"{i * step:.1f},{height - (v - low) / span * height:.1f}"
        for i, v in enumerate(values)
        if v is not None
    ]
    return " ".join(points)
