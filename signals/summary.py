"""Reads for the executive summary: ARR at risk, blind spots and prioritised actions.

The summary reads every app (accounts, scorecards, escalation, sponsors), so it lives in
``signals``, which nothing imports. Each figure is a fixed number of queries whatever the
size of the book; the arithmetic is plain Python over those rows.

Colours in the past come from the colour history (``ColorChange``): an account's colour at
time T is the ``from_color`` of its first change after T, or its current colour when it has
not changed since. ARR is today's ARR (the book keeps no ARR history), so a change in "ARR
at risk" means accounts changing colour, not contracts changing size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db.models import Count, F, FloatField, Max, Min, Q, Sum
from django.db.models.functions import Cast

from accounts.choices import LifecycleStage, Segment
from accounts.models import Account, CompetitorEvent, ContactTitleChange, PeopleChange, Ticket
from escalation.choices import EscalationStatus, Level
from escalation.models import Escalation
from scorecards.choices import AreaCode
from scorecards.measures import seniority
from scorecards.models import AreaScore, ColorChange
from sponsors import selectors as sponsor_selectors
from sponsors.models import CheckIn, Program, Sponsorship

RED, YELLOW, GREEN = "red", "yellow", "green"
OVERALL = ColorChange.OVERALL
ZERO = Decimal("0")
TREND_WEEKS = 13


# --- the book and its colours -----------------------------------------------------------------


@dataclass
class BookRow:
    id: int
    name: str
    arr: Decimal
    segment: str
    team: str
    renewal_date: dt.date | None
    color: str  # overall colour now; green when never scored


def book_rows(ids: Iterable[int] | None = None) -> list[BookRow]:
    """Live accounts (not churned) with what the summary shows of them: one query."""
    qs = Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    rows = qs.order_by("pk").values_list(
        "pk", "name", "arr", "segment", "team__name", "renewal_date", "scorecard__color"
    )
    return [
        BookRow(pk, name, arr, segment, team or "No team", renewal, color or GREEN)
        for pk, name, arr, segment, team, renewal, color in rows
    ]


def book_frame() -> pd.DataFrame:
    """Every live account as one row of what the summary groups by: one query, no model
    instances and ARR as a float from the database (the sums are rounded to cents)."""
    rows = (
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .order_by()
        .values_list(
            "pk",
            Cast("arr", FloatField()),
            "segment",
            "team__name",
            "renewal_date",
            "scorecard__color",
        )
    )
    df = pd.DataFrame.from_records(
        list(rows), columns=["account_id", "arr", "segment", "team", "renewal", "c0"]
    ).set_index("account_id")
    df["team"] = df["team"].fillna("No team")
    df["c0"] = df["c0"].fillna(GREEN)
    renewal = pd.to_datetime(df["renewal"])
    df["quarter"] = (
        renewal.dt.year.astype("Int64").astype(str)
        + "-Q"
        + renewal.dt.quarter.astype("Int64").astype(str)
    ).where(renewal.notna(), "No renewal date")
    return df


@dataclass
class Bucket:
    """ARR red and yellow in one group (an area, a segment, a team or a quarter)."""

    key: str
    label: str
    total: Decimal = ZERO
    red: Decimal = ZERO
    yellow: Decimal = ZERO
    red_30: Decimal = ZERO
    yellow_30: Decimal = ZERO
    red_90: Decimal = ZERO
    yellow_90: Decimal = ZERO
    accounts_at_risk: int = 0
    # False when the colour history does not reach back that far (nothing to compare).
    known_30: bool = True
    known_90: bool = True

    @property
    def at_risk(self) -> Decimal:
        return self.red + self.yellow

    @property
    def change_30(self) -> Decimal | None:
        return self.at_risk - (self.red_30 + self.yellow_30) if self.known_30 else None

    @property
    def change_90(self) -> Decimal | None:
        return self.at_risk - (self.red_90 + self.yellow_90) if self.known_90 else None

    def add(self, arr: Decimal, now: str, then_30: str, then_90: str) -> None:
        self.total += arr
        if now in (RED, YELLOW):
            self.accounts_at_risk += 1
        for color, red, yellow in (
            (now, "red", "yellow"),
            (then_30, "red_30", "yellow_30"),
            (then_90, "red_90", "yellow_90"),
        ):
            if color == RED:
                setattr(self, red, getattr(self, red) + arr)
            elif color == YELLOW:
                setattr(self, yellow, getattr(self, yellow) + arr)


@dataclass
class TrendPoint:
    on: dt.date
    red: Decimal
    yellow: Decimal

    @property
    def at_risk(self) -> Decimal:
        return self.red + self.yellow


@dataclass
class Summary:
    now: dt.datetime
    total: Bucket
    by_area: list[Bucket]
    by_segment: list[Bucket]
    by_team: list[Bucket]
    by_quarter: list[Bucket]
    trend: list[TrendPoint]
    escalations: list[dict]
    coverage: dict
    blind_spots: list[BlindSpot] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


SUM_COLUMNS = ["total", "red", "yellow", "red_30", "yellow_30", "red_90", "yellow_90", "n_risk"]


def _with_sums(df: pd.DataFrame) -> pd.DataFrame:
    """ARR split by colour now, 30 and 90 days ago as columns, so a breakdown is one sum."""
    arr = df["arr"]
    out = pd.DataFrame(index=df.index)
    out["total"] = arr
    for col, suffix in (("c0", ""), ("c30", "_30"), ("c90", "_90")):
        out["red" + suffix] = arr.where(df[col] == RED, 0.0)
        out["yellow" + suffix] = arr.where(df[col] == YELLOW, 0.0)
    out["n_risk"] = (out["red"] + out["yellow"] > 0).astype(int)
    return out


def _bucket(key: str, label: str, sums: pd.Series) -> Bucket:
    return Bucket(
        key,
        label,
        **{c: _money(float(sums[c])) for c in SUM_COLUMNS[:-1]},
        accounts_at_risk=int(sums["n_risk"]),
    )


def _buckets(df: pd.DataFrame, by: str, labels: dict[str, str] | None = None) -> list[Bucket]:
    if df.empty:
        return []
    sums = _with_sums(df).join(df[[by]]).groupby(by, sort=True)[SUM_COLUMNS].sum()
    return [_bucket(k, (labels or {}).get(k, k), row) for k, row in sums.iterrows()]


def _first_after(changes: pd.DataFrame, keys: list[str], when: dt.datetime) -> pd.Series:
    """Per key, the ``from_color`` of the first change after ``when`` (sorted oldest first):
    the colour the key had at ``when``. Keys that did not change since are absent."""
    later = changes[changes["at"] > pd.Timestamp(when)]
    return later.groupby(keys)["from_color"].first()


def _at(current: pd.Series, changes: pd.DataFrame, keys: list[str], when: dt.datetime) -> pd.Series:
    then = current.copy()
    first = _first_after(changes, keys, when)
    then.update(first[first.index.isin(then.index)])
    return then


def executive_summary(now: dt.datetime) -> Summary:
    """Every figure of the summary page, as of ``now``."""
    book = book_frame()
    # Only non-green area scores are read (the index on area, colour); a missing one is green.
    area_now = pd.DataFrame.from_records(
        list(
            AreaScore.objects.filter(area__in=AreaCode.values, color__in=[RED, YELLOW]).values_list(
                "account_id", "area", "color"
            )
        ),
        columns=["account_id", "area", "color"],
    )
    since = now - dt.timedelta(days=max(90, TREND_WEEKS * 7))
    # A first score of green ('' → green) changes no figure: the colour before it counts as
    # green either way. Leaving those rows out keeps this read small.
    changes = pd.DataFrame.from_records(
        list(
            ColorChange.objects.filter(at__gt=since)
            .exclude(from_color="", to_color=GREEN)
            .order_by("at", "pk")
            .values_list("account_id", "area", "at", "from_color", "to_color")
        ),
        columns=["account_id", "area", "at", "from_color", "to_color"],
    )
    changes["at"] = pd.to_datetime(changes["at"], utc=True)
    changes = changes[changes["account_id"].isin(book.index)]
    changes["from_color"] = changes["from_color"].replace("", GREEN)
    # Before the first recorded change nobody was scored: a past figure there is unknown,
    # not "all green" (the first recompute writes every account's first change).
    started = ColorChange.objects.aggregate(first=Min("at"))["first"]
    known_30 = started is not None and started <= now - dt.timedelta(days=30)
    known_90 = started is not None and started <= now - dt.timedelta(days=90)
    ago_30, ago_90 = now - dt.timedelta(days=30), now - dt.timedelta(days=90)

    overall_changes = changes[changes["area"] == OVERALL]
    book["c30"] = _at(book["c0"], overall_changes, ["account_id"], ago_30)
    book["c90"] = _at(book["c0"], overall_changes, ["account_id"], ago_90)
    total = _bucket("all", "All accounts", _with_sums(book)[SUM_COLUMNS].sum())

    area_changes = changes[changes["area"] != OVERALL]
    area_now = area_now[area_now["account_id"].isin(book.index)]
    current = area_now.set_index(["account_id", "area"])["color"]
    past_keys = pd.MultiIndex.from_frame(area_changes[["account_id", "area"]].drop_duplicates())
    current = pd.concat(
        [current, pd.Series(GREEN, index=past_keys.difference(current.index), dtype=object)]
    )
    areas = pd.DataFrame({"c0": current})
    areas["c30"] = _at(current, area_changes, ["account_id", "area"], ago_30)
    areas["c90"] = _at(current, area_changes, ["account_id", "area"], ago_90)
    areas = areas.reset_index()
    areas["arr"] = areas["account_id"].map(book["arr"])
    labels = dict(AreaCode.choices)
    found = {b.key: b for b in _buckets(areas, "area", labels)}
    by_area = []
    for code, label in AreaCode.choices:
        bucket = found.get(code) or Bucket(code, label)
        bucket.total = total.total  # an area's share is of the whole book
        by_area.append(bucket)

    segments = dict(Segment.choices)
    by_segment = _buckets(book, "segment", segments)
    by_segment.sort(key=lambda b: list(segments).index(b.key) if b.key in segments else 99)
    by_team = _buckets(book, "team")
    by_quarter = _buckets(book, "quarter")

    for bucket in [total, *by_area, *by_segment, *by_team, *by_quarter]:
        bucket.known_30, bucket.known_90 = known_30, known_90

    # The trend telescopes: each overall change moves red/yellow ARR by its account's ARR,
    # so the ARR at T is today's minus the moves after T (one cumulative sum, no lookups).
    moves = overall_changes.assign(arr=overall_changes["account_id"].map(book["arr"]))
    red_move = moves["arr"] * (
        (moves["to_color"] == RED).astype(int) - (moves["from_color"] == RED).astype(int)
    )
    yellow_move = moves["arr"] * (
        (moves["to_color"] == YELLOW).astype(int) - (moves["from_color"] == YELLOW).astype(int)
    )
    at = moves["at"].dt.tz_convert(None).to_numpy()
    red_after = np.concatenate([np.cumsum(red_move.to_numpy()[::-1])[::-1], [0.0]])
    yellow_after = np.concatenate([np.cumsum(yellow_move.to_numpy()[::-1])[::-1], [0.0]])
    red_now = float(book["arr"][book["c0"] == RED].sum())
    yellow_now = float(book["arr"][book["c0"] == YELLOW].sum())
    trend = []
    for weeks_ago in range(TREND_WEEKS, -1, -1):
        when = now - dt.timedelta(days=7 * weeks_ago)
        if weeks_ago and (started is None or when < started):
            continue  # before the history starts: no point rather than a false zero
        first_later = int(
            np.searchsorted(at, np.datetime64(pd.Timestamp(when).tz_convert(None)), side="right")
        )
        red = red_now - (red_after[first_later] if weeks_ago else 0.0)
        yellow = yellow_now - (yellow_after[first_later] if weeks_ago else 0.0)
        trend.append(TrendPoint(when.date(), _money(red), _money(yellow)))

    velocity = _velocity(now)
    return Summary(
        now=now,
        total=total,
        by_area=by_area,
        by_segment=by_segment,
        by_team=by_team,
        by_quarter=by_quarter,
        trend=trend,
        escalations=open_escalations(),
        coverage=sponsor_coverage(now.date()),
        blind_spots=blind_spots(now, velocity, set(book.index[book["c0"] == GREEN])),
        actions=prioritised_actions(now, velocity=velocity, book=book),
    )


def open_escalations() -> list[dict]:
    """Open escalations per level, with the ARR of their accounts: one query."""
    counts = {
        row["level"]: row
        for row in Escalation.objects.filter(status=EscalationStatus.OPEN)
        .values("level")
        .annotate(n=Count("pk"), arr=Sum("account__arr"))
    }
    return [
        {
            "level": level,
            "label": label,
            "n": counts.get(level, {}).get("n", 0),
            "arr": counts.get(level, {}).get("arr") or ZERO,
        }
        for level, label in Level.choices
    ]


def sponsor_coverage(today: dt.date) -> dict:
    """Eligible accounts of the running program with a sponsor: three queries."""
    program = Program.current(today)
    if program is None:
        return {"program": None, "eligible": 0, "covered": 0, "percent": 100, "uncovered_arr": ZERO}
    eligible = sponsor_selectors.eligible(program)
    live = Sponsorship.objects.filter(ended_on=None).values("account_id")
    totals = eligible.aggregate(
        n=Count("pk"),
        covered=Count("pk", filter=Q(pk__in=live)),
        uncovered_arr=Sum("arr", filter=~Q(pk__in=live)),
    )
    n, covered = totals["n"], totals["covered"]
    return {
        "program": program.name,
        "eligible": n,
        "covered": covered,
        "percent": int(covered / n * 100) if n else 100,
        "uncovered_arr": totals["uncovered_arr"] or ZERO,
    }


# --- blind spots ------------------------------------------------------------------------------
#
# An account is a blind spot when its overall colour is GREEN and, within the last
# ``BLIND_WINDOW_DAYS``, one of these leading danger signals is on record:
#
# - velocity:   non-critical support tickets up at least ``VELOCITY_LEAD`` (+25%) on the
#               90 days before, counted the way the velocity measure counts (floor 8). The
#               measure colours yellow only at +50%, so +25–49% is a rise still under it.
# - people:     a contact left who was an EDM or champion, or whose title was director or
#               above; or an EDM/champion's title lost seniority. The measures watch only
#               EDM and champion, and only when the score was recomputed since.
# - competitor: any competitor evaluation, engagement or mention. Exposure colours yellow
#               only at 1.0 (one fresh evaluation), so a mention or an older engagement
#               sits underneath.
#
# Each finding names the signal, its date and the account's ARR.

BLIND_WINDOW_DAYS = 90
VELOCITY_LEAD = 0.25
VELOCITY_FLOOR = 8
KEY_ROLES = {"edm", "champion"}


@dataclass
class BlindSpot:
    account_id: int
    account: str
    arr: Decimal
    renewal_date: dt.date | None
    signal: str  # velocity, people, competitor
    sentence: str
    on: dt.date


SIGNAL_LABELS = {
    "velocity": "Ticket velocity",
    "people": "People change",
    "competitor": "Competitor exposure",
    "edm_left": "Decision maker left",
    "silent_sponsor": "Silent sponsor",
}


def _green_accounts() -> Q:
    return ~Q(account__lifecycle_stage=LifecycleStage.CHURNED) & (
        Q(account__scorecard__color=GREEN) | Q(account__scorecard__isnull=True)
    )


Velocity = list[tuple[int, float, int, int, dt.datetime]]


def _velocity(now: dt.datetime) -> Velocity:
    """Per account with support tickets in the last 180 days: (id, velocity, n1, n0, last),
    counted as the velocity measure counts (non-urgent support tickets, floor 8). One
    aggregate over the tickets table; the callers pick the accounts they care about."""
    cut, start = now - dt.timedelta(days=90), now - dt.timedelta(days=180)
    rows = (
        Ticket.objects.filter(kind="support", opened_at__gt=start, opened_at__lte=now)
        .exclude(priority="urgent")
        .values("account_id")
        .annotate(
            n1=Count("pk", filter=Q(opened_at__gt=cut)),
            n0=Count("pk", filter=Q(opened_at__lte=cut)),
            last=Max("opened_at"),
        )
        # Below +2 tickets no account reaches +25% (floor 8): leave those in the database.
        .filter(n1__gte=F("n0") + math.ceil(VELOCITY_LEAD * VELOCITY_FLOOR))
        .order_by()
        .values_list("account_id", "n1", "n0", "last")
    )
    return [
        (account_id, (n1 - n0) / max(n0, VELOCITY_FLOOR), n1, n0, last)
        for account_id, n1, n0, last in rows
    ]


def blind_spots(
    now: dt.datetime, velocity: Velocity | None = None, green_ids: set[int] | None = None
) -> list[BlindSpot]:
    """Green accounts with a leading danger signal underneath; largest ARR first."""
    since = now - dt.timedelta(days=BLIND_WINDOW_DAYS)
    green = _green_accounts()
    if green_ids is None:
        green_ids = {r.id for r in book_rows() if r.color == GREEN}
    found: list[tuple[int, str, str, dt.date]] = []
    for account_id, v, n1, n0, last in velocity if velocity is not None else _velocity(now):
        if v >= VELOCITY_LEAD and account_id in green_ids:
            found.append(
                (
                    account_id,
                    "velocity",
                    f"Non-critical tickets up {v * 100:.0f}% ({n1} in the last 90 days vs {n0})",
                    last.date(),
                )
            )
    for account_id, roles, old, at in PeopleChange.objects.filter(
        green, change="left", occurred_at__gt=since, occurred_at__lte=now
    ).values_list("account_id", "roles", "old_title", "occurred_at"):
        key = KEY_ROLES & set(roles or [])
        if key or seniority(old) >= 3:
            who = "Executive Decision Maker" if "edm" in key else ("Champion" if key else old)
            found.append((account_id, "people", f"{who} left ({old or 'no title'})", at.date()))
    for account_id, roles, old, new, on in ContactTitleChange.objects.filter(
        Q(contact__account__scorecard__color=GREEN) | Q(contact__account__scorecard__isnull=True),
        changed_on__gt=since.date(),
        changed_on__lte=now.date(),
    ).values_list("contact__account_id", "contact__roles", "old_title", "new_title", "changed_on"):
        if KEY_ROLES & set(roles or []) and seniority(old) > seniority(new):
            found.append((account_id, "people", f"Key contact title “{old}” → “{new}”", on))
    for account_id, competitor, activity, at in CompetitorEvent.objects.filter(
        green, occurred_at__gt=since, occurred_at__lte=now
    ).values_list("account_id", "competitor", "activity", "occurred_at"):
        found.append(
            (account_id, "competitor", f"{activity.capitalize()} of {competitor}", at.date())
        )
    # One finding per account and signal: the latest.
    latest: dict[tuple[int, str], tuple[int, str, str, dt.date]] = {}
    for f in found:
        if (f[0], f[1]) not in latest or f[3] > latest[(f[0], f[1])][3]:
            latest[(f[0], f[1])] = f
    accounts = {
        a["pk"]: a
        for a in Account.objects.filter(pk__in={k[0] for k in latest}).values(
            "pk", "name", "arr", "renewal_date"
        )
    }
    spots = [
        BlindSpot(
            a,
            accounts[a]["name"],
            accounts[a]["arr"],
            accounts[a]["renewal_date"],
            signal,
            sentence,
            on,
        )
        for (a, signal), (_, _, sentence, on) in latest.items()
        if a in accounts
    ]
    spots.sort(key=lambda s: (-s.arr, s.account, s.signal))
    return spots


# --- prioritised actions ------------------------------------------------------------------------
#
# Each danger signal has the response that fits it (RESPONSES). An action's priority is
#   ARR × severity × closeness,  closeness = 1 / (1 + max(days to renewal, 0) / 90)
# so a renewal today weighs 1, in 90 days ½, in a year ⅕; no renewal date weighs ⅕.

SEVERITY = {"edm_left": 1.0, "competitor": 0.9, "silent_sponsor": 0.6, "velocity": 0.5}
SILENT_DAYS = 90
ACTION_LIMIT = 15


@dataclass(frozen=True)
class Response:
    label: str
    cta_type: str
    area: str
    priority: str
    escalate_to: int | None  # open an escalation at this level
    suggest: str  # what else the page recommends


RESPONSES: dict[str, Response] = {
    "silent_sponsor": Response(
        "Sponsor check-in", "sponsor_checkin", "", "high", None, "The sponsor calls the EDM."
    ),
    "competitor": Response(
        "Level-2 escalation with Product",
        "risk",
        "product",
        "urgent",
        2,
        "Product joins the call on the competitor's gaps.",
    ),
    "velocity": Response(
        "Support review", "risk", "support", "high", None, "Support reviews the ticket trend."
    ),
    "edm_left": Response(
        "Company-risk CTA",
        "risk",
        "company",
        "urgent",
        None,
        "Suggest a level-2 escalation: the VP meets the new decision maker.",
    ),
}


@dataclass
class Action:
    account_id: int
    account: str
    arr: Decimal
    renewal_date: dt.date | None
    days_to_renewal: int | None
    signal: str
    sentence: str
    on: dt.date
    priority: float
    response: Response

    @property
    def reason(self) -> str:
        return f"{SIGNAL_LABELS[self.signal]}: {self.sentence}"[:200]


def closeness(days: int | None) -> float:
    if days is None:
        return 0.2
    return 1 / (1 + max(days, 0) / 90)


def prioritised_actions(
    now: dt.datetime,
    limit: int = ACTION_LIMIT,
    velocity: Velocity | None = None,
    book: pd.DataFrame | None = None,
) -> list[Action]:
    """The book's danger signals with the response that fits each, highest priority first."""
    since = now - dt.timedelta(days=BLIND_WINDOW_DAYS)
    live = ~Q(account__lifecycle_stage=LifecycleStage.CHURNED)
    found: dict[tuple[int, str], tuple[str, dt.date]] = {}

    def keep(account_id: int, signal: str, sentence: str, on: dt.date) -> None:
        if (account_id, signal) not in found or on > found[(account_id, signal)][1]:
            found[(account_id, signal)] = (sentence, on)

    for account_id, v, _n1, _n0, last in velocity if velocity is not None else _velocity(now):
        if v >= VELOCITY_LEAD:  # one row per account: nothing to keep the latest of
            found[(account_id, "velocity")] = (f"non-critical tickets up {v * 100:.0f}%", last)
    for account_id, competitor, at in CompetitorEvent.objects.filter(
        live, activity="evaluation", occurred_at__gt=since, occurred_at__lte=now
    ).values_list("account_id", "competitor", "occurred_at"):
        keep(account_id, "competitor", f"evaluating {competitor}", at.date())
    for account_id, roles, at in PeopleChange.objects.filter(
        live, change="left", occurred_at__gt=now - dt.timedelta(days=180), occurred_at__lte=now
    ).values_list("account_id", "roles", "occurred_at"):
        if "edm" in (roles or []):
            keep(account_id, "edm_left", "Executive Decision Maker left", at.date())
    last_logged = dict(
        CheckIn.objects.filter(logged_at__isnull=False)
        .values("sponsorship_id")
        .annotate(last=Max("logged_at"))
        .values_list("sponsorship_id", "last")
    )
    quiet_since = now - dt.timedelta(days=SILENT_DAYS)
    for pk, account_id, started in Sponsorship.objects.filter(
        live, ended_on=None, started_on__lte=quiet_since.date()
    ).values_list("pk", "account_id", "started_on"):
        last = last_logged.get(pk)
        if last is None or last < quiet_since:
            on = last.date() if last else started
            keep(account_id, "silent_sponsor", f"no sponsor check-in since {on}", on)

    # Rank on the live book's ARR and renewal (the frame the page has loaded already), then
    # read names and exact ARR for the top ``limit`` only.
    book = book if book is not None else book_frame()
    book = book[book.index.isin({a for a, _ in found})]
    arr, renewal = book["arr"].to_dict(), book["renewal"].to_dict()
    today = now.date()
    ranked = []
    for (account_id, signal), (sentence, on) in found.items():
        if account_id not in arr:
            continue  # churned
        day = renewal[account_id]
        days = (day - today).days if isinstance(day, dt.date) else None
        score = arr[account_id] * SEVERITY[signal] * closeness(days)
        on = on.date() if isinstance(on, dt.datetime) else on
        ranked.append((score, account_id, signal, sentence, on, days))
    ranked.sort(key=lambda r: (-r[0], r[1], r[2]))
    ranked = ranked[: limit * 2]  # ties on score are broken by name below
    rows = {r.id: r for r in book_rows({r[1] for r in ranked})}
    actions = [
        Action(
            account_id,
            rows[account_id].name,
            rows[account_id].arr,
            rows[account_id].renewal_date,
            days,
            signal,
            sentence,
            on,
            score,
            RESPONSES[signal],
        )
        for score, account_id, signal, sentence, on, days in ranked
        if account_id in rows
    ]
    actions.sort(key=lambda a: (-a.priority, a.account, a.signal))
    return actions[:limit]
