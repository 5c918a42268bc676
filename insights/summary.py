"""Reads for the executive summary: ARR at risk, blind spots and prioritised actions.

The summary reads every app (accounts, scorecards, escalation, sponsors), so it lives in
``insights``, which nothing imports. Each figure is a fixed number of queries whatever the
size of the book; the arithmetic is plain Python over those rows.

Colours in the past come from the colour history (``ColorChange``): an account's colour at
time T is the ``from_color`` of its first change after T, or its current colour when it has
not changed since. ARR is today's ARR (the book keeps no ARR history), so a change in "ARR
at risk" means accounts changing colour, not contracts changing size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Count, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import Cast

from accounts.choices import LifecycleStage, Segment
from accounts.models import Account, CompetitorEvent
from csrisk.db import dialect
from escalation.choices import EscalationStatus, Level
from escalation.models import Escalation
from insights.findings import (
    People,
    Velocity,
    edm_left,
    summary_findings,
)
from insights.predictions import (
    PRIOR_NOTE,
    TOP_SHARE,
    RiskReading,
    latest_details,
    risk_reading,
)
from scorecards.choices import AreaCode
from scorecards.measures import Threshold
from scorecards.models import AreaScore, ColorChange
from scorecards.selectors import thresholds
from sponsors import selectors as sponsor_selectors
from sponsors.models import CheckIn, Program, Sponsorship

RED, YELLOW, GREEN = "red", "yellow", "green"
OVERALL = ColorChange.OVERALL
ZERO = Decimal("0")
TREND_WEEKS = 13


# --- the book and its colours -----------------------------------------------------------------


# Colours as small integers for the arithmetic: a comparison of 10,000 strings costs more
# than the whole sum it selects for. A colour never scored ('' or NULL) counts as green.
COLOR_CODE = {GREEN: 0, YELLOW: 1, RED: 2}
G, Y, R = 0, 1, 2


AREA_INDEX = {code: i for i, code in enumerate(AreaCode.values)}
# Colour changes as arrays: key, at (seconds since the epoch), from and to (colour codes).
Changes = dict[str, np.ndarray]
_ANY_CODE = {**COLOR_CODE, "": 0, None: 0}


def _codes(colors: Iterable[str | None]) -> np.ndarray:
    return np.fromiter(map(_ANY_CODE.__getitem__, colors), dtype=np.int8)


def _columns(rows: list[tuple], n: int) -> list[list]:
    """Rows of n values as n column lists. (Not ``zip(*rows)``: unpacking 30,000 rows as
    arguments costs ten times as much.)"""
    return [[r[i] for r in rows] for i in range(n)]


def _rows(values: QuerySet) -> list[tuple]:
    """A ``values_list`` query's rows straight from the cursor: the ORM writes the SQL, but
    its per-row converters (a function call per row and column) are skipped — the columns
    read this way are ones the driver returns as Python values already."""
    sql, params = values.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _date(on: dt.date | dt.datetime) -> dt.date:
    return on.date() if isinstance(on, dt.datetime) else on


def book_frame() -> pd.DataFrame:
    """Every live account as one row of what the summary groups by, ordered by id: one
    query, no model instances, ARR as a float from the database (the sums are rounded to
    cents) and the overall colour as a code (``c0``: 0 green, 1 yellow, 2 red)."""
    rows = _rows(
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .order_by("pk")
        .values_list(
            "pk",
            "name",
            Cast("arr", FloatField()),
            "segment",
            "team__name",
            "renewal_date",
            "scorecard__color",
        )
    )
    ids, name, arr, segment, team, renewal, color = _columns(rows, 7)
    quarter = [
        f"{d.year}-Q{(d.month - 1) // 3 + 1}" if d is not None else "No renewal date"
        for d in renewal
    ]
    return pd.DataFrame(
        {
            "name": np.asarray(name, dtype=object),
            "arr": np.asarray(arr, dtype=float),
            "segment": np.asarray(segment, dtype=object),
            "team": np.asarray([t or "No team" for t in team], dtype=object),
            "renewal": np.asarray(renewal, dtype=object),
            "renewal_day": np.asarray(
                [d.toordinal() if d is not None else np.nan for d in renewal], dtype=float
            ),
            "c0": _codes(color),
            "quarter": np.asarray(quarter, dtype=object),
        },
        index=pd.Index(np.asarray(ids, dtype=np.int64), name="account_id"),
    )


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
    # The sum of the group's latest predictions' expected ARR loss (None: not a group the
    # risk model speaks to, e.g. an area).
    expected_loss: Decimal | None = None

    @property
    def at_risk(self) -> Decimal:
        return self.red + self.yellow

    @property
    def change_30(self) -> Decimal | None:
        return self.at_risk - (self.red_30 + self.yellow_30) if self.known_30 else None

    @property
    def change_90(self) -> Decimal | None:
        return self.at_risk - (self.red_90 + self.yellow_90) if self.known_90 else None


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
    risk: RiskReading | None = None  # the renewal-risk predictions behind the dollars


def _money(x: float) -> Decimal:
    return Decimal(f"{x:.2f}")


def _sums(groups: np.ndarray, n: int, arr: np.ndarray, colors: list[np.ndarray]) -> np.ndarray:
    """Per group (0..n-1): total ARR, then red and yellow ARR for each colour column (now,
    30 and 90 days ago), then the accounts at risk now; one weighted count per column."""

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(groups, weights=weights, minlength=n)

    columns = [total(arr)]
    for c in colors:
        columns += [total(arr * (c == R)), total(arr * (c == Y))]
    columns.append(total((colors[0] != G).astype(float)))
    return np.column_stack(columns) if n else np.zeros((0, 2 + 2 * len(colors)))


def _bucket(key: str, label: str, sums: np.ndarray) -> Bucket:
    total, red, yellow, red_30, yellow_30, red_90, yellow_90, n_risk = (float(x) for x in sums)
    return Bucket(
        key,
        label,
        total=_money(total),
        red=_money(red),
        yellow=_money(yellow),
        red_30=_money(red_30),
        yellow_30=_money(yellow_30),
        red_90=_money(red_90),
        yellow_90=_money(yellow_90),
        accounts_at_risk=int(n_risk),
    )


def _buckets(
    keys: np.ndarray,
    arr: np.ndarray,
    colors: list[np.ndarray],
    labels: dict[str, str] | None = None,
) -> list[Bucket]:
    """One bucket per distinct key (sorted), with its ARR by colour now, 30 and 90 days ago."""
    if not len(keys):
        return []
    # A hash (factorize), not a sort of 10,000 strings, finds the groups.
    groups, names = pd.factorize(keys, sort=True)
    sums = _sums(groups, len(names), arr, colors)
    return [_bucket(k, (labels or {}).get(k, k), row) for k, row in zip(names, sums, strict=True)]


def _colors_at(
    keys: np.ndarray, current: np.ndarray, changes: Changes, when: dt.datetime
) -> np.ndarray:
    """The colour of each key (sorted, unique) at ``when``: the ``from`` colour of its first
    change after ``when`` (changes are sorted oldest first), or its current colour when it
    has not changed since."""
    later = changes["at"] > when.timestamp()
    changed, first = np.unique(changes["key"][later], return_index=True)
    then = current.copy()
    if len(changed) and len(keys):
        pos = np.minimum(np.searchsorted(keys, changed), len(keys) - 1)
        known = keys[pos] == changed
        then[pos[known]] = changes["from"][later][first[known]]
    return then


# The colour history and the non-green area scores come back from the database as numbers
# (a key, seconds since the epoch, colour codes): 25,000 history rows as datetimes and
# strings cost more to convert than the summary's whole arithmetic.
_EPOCH = {
    "postgresql": "date_part('epoch', {column})",  # float8 (EXTRACT gives numeric)
    "sqlite": "((julianday({column}) - 2440587.5) * 86400.0)",
}


_AREAS_IN = ", ".join(["%s"] * len(AREA_INDEX))


def _code_sql(column: str) -> str:
    return f"CASE {column} WHEN 'red' THEN {R} WHEN 'yellow' THEN {Y} ELSE {G} END"


OVERALL_INDEX = 15  # in a colour change's key, beside the areas' indexes (0–7)


def _area_key_sql(overall: bool = False) -> str:
    """An area score's key: account id × 16 + the area's index (AREA_INDEX), or
    OVERALL_INDEX for an overall colour when ``overall``."""
    indexes = {**AREA_INDEX, **({OVERALL: OVERALL_INDEX} if overall else {})}
    whens = " ".join(f"WHEN '{code}' THEN {i}" for code, i in indexes.items())
    return f"account_id * 16 + CASE area {whens} END"


def _numbers(sql: str, params: list, columns: int) -> np.ndarray:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return np.array(rows, dtype=float).reshape(len(rows), columns)


def _color_changes(since: dt.datetime, accounts: np.ndarray) -> tuple[Changes, Changes]:
    """The colour changes after ``since`` of the accounts in ``accounts``, overall and per
    area, each as arrays (key, at, from, to), oldest first. An overall change's key is the
    account id; an area change's key is account id × 16 + the area's index. One read of the
    history for both. A first score of green ('' → green) changes no figure (the colour
    before it counts as green either way), so those rows stay in the database."""
    vendor = dialect()
    # Two numbers a row, the key and both colours packed into one (key × 9 + from × 3 +
    # to): half the Python objects of four columns, for ~25,000 rows on a 10k book.
    rows = _numbers(
        f"SELECT ({_area_key_sql(overall=True)}) * 9"
        f" + {_code_sql('from_color')} * 3 + {_code_sql('to_color')},"
        f" {_EPOCH[vendor].format(column='at')}"
        f" FROM {ColorChange._meta.db_table}"
        f" WHERE at > %s AND area IN ({_AREAS_IN}, %s)"
        " AND NOT (from_color = '' AND to_color = %s) ORDER BY at, id",
        [connection.ops.adapt_datetimefield_value(since), *AREA_INDEX, OVERALL, GREEN],
        2,
    )
    packed = rows[:, 0].astype(np.int64)
    keys, moves = packed // 9, packed % 9
    mask = np.isin(keys // 16, accounts)
    overall = mask & (keys % 16 == OVERALL_INDEX)
    area = mask & ~overall

    def part(keep: np.ndarray, key: np.ndarray) -> Changes:
        return {
            "key": key[keep],
            "at": rows[keep, 1],
            "from": (moves[keep] // 3).astype(np.int8),
            "to": (moves[keep] % 3).astype(np.int8),
        }

    return part(overall, keys // 16), part(area, keys)


def _area_colors_now(accounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The keys (account id × 16 + area index) and colour codes of the red and yellow area
    scores of these accounts; a key with no row is green."""
    rows = _numbers(
        f"SELECT {_area_key_sql()}, {_code_sql('color')} FROM {AreaScore._meta.db_table}"
        f" WHERE area IN ({_AREAS_IN}) AND color IN (%s, %s)",
        [*AREA_INDEX, RED, YELLOW],
        2,
    )
    keys = rows[:, 0].astype(np.int64)
    mask = np.isin(keys // 16, accounts)
    return keys[mask], rows[mask, 1].astype(np.int8)


def executive_summary(now: dt.datetime) -> Summary:
    """Every figure of the summary page, as of ``now``."""
    book = book_frame()
    ids, arr, c0 = book.index.to_numpy(), book["arr"].to_numpy(), book["c0"].to_numpy()
    since = now - dt.timedelta(days=max(90, TREND_WEEKS * 7))
    overall_changes, area_changes = _color_changes(since, ids)
    # Before the first recorded change nobody was scored: a past figure there is unknown,
    # not "all green" (the first recompute writes every account's first change).
    started = ColorChange.objects.aggregate(first=Min("at"))["first"]
    known_30 = started is not None and started <= now - dt.timedelta(days=30)
    known_90 = started is not None and started <= now - dt.timedelta(days=90)
    ago_30, ago_90 = now - dt.timedelta(days=30), now - dt.timedelta(days=90)

    colors = [
        c0,
        _colors_at(ids, c0, overall_changes, ago_30),
        _colors_at(ids, c0, overall_changes, ago_90),
    ]
    total = _bucket(
        "all", "All accounts", _sums(np.zeros(len(ids), dtype=np.int64), 1, arr, colors)[0]
    )

    # Areas: a key is account id × 16 + the area's index. Only non-green area scores are
    # read (the index on area, colour); a key with no row is green.
    scored_keys, scored_colors = _area_colors_now(ids)
    keys = np.union1d(scored_keys, area_changes["key"])
    area_now = np.zeros(len(keys), dtype=np.int8)
    area_now[np.searchsorted(keys, scored_keys)] = scored_colors
    area_colors = [
        area_now,
        _colors_at(keys, area_now, area_changes, ago_30),
        _colors_at(keys, area_now, area_changes, ago_90),
    ]
    area_arr = arr[np.searchsorted(ids, keys // 16)] if len(keys) else np.zeros(0)
    codes = np.asarray(AreaCode.values, dtype=object)[keys % 16]
    labels = dict(AreaCode.choices)
    found = {b.key: b for b in _buckets(codes, area_arr, area_colors, labels)}
    by_area = []
    for code, label in AreaCode.choices:
        bucket = found.get(code) or Bucket(code, label)
        bucket.total = total.total  # an area's share is of the whole book
        by_area.append(bucket)

    segments = dict(Segment.choices)
    by_segment = _buckets(book["segment"].to_numpy(), arr, colors, segments)
    by_segment.sort(key=lambda b: list(segments).index(b.key) if b.key in segments else 99)
    by_team = _buckets(book["team"].to_numpy(), arr, colors)
    by_quarter = _buckets(book["quarter"].to_numpy(), arr, colors)

    for bucket in [total, *by_area, *by_segment, *by_team, *by_quarter]:
        bucket.known_30, bucket.known_90 = known_30, known_90

    # The trend telescopes: each overall change moves red/yellow ARR by its account's ARR,
    # so the ARR at T is today's minus the moves after T (one cumulative sum, no lookups).
    move_arr = arr[np.searchsorted(ids, overall_changes["key"])] if len(ids) else np.zeros(0)
    to, frm = overall_changes["to"], overall_changes["from"]
    red_move = move_arr * ((to == R).astype(int) - (frm == R).astype(int))
    yellow_move = move_arr * ((to == Y).astype(int) - (frm == Y).astype(int))
    red_after = np.concatenate([np.cumsum(red_move[::-1])[::-1], [0.0]])
    yellow_after = np.concatenate([np.cumsum(yellow_move[::-1])[::-1], [0.0]])
    red_now, yellow_now = float(arr[c0 == R].sum()), float(arr[c0 == Y].sum())
    trend = []
    for weeks_ago in range(TREND_WEEKS, -1, -1):
        when = now - dt.timedelta(days=7 * weeks_ago)
        if weeks_ago and (started is None or when < started):
            continue  # before the history starts: no point rather than a false zero
        first_later = int(np.searchsorted(overall_changes["at"], when.timestamp(), side="right"))
        red = red_now - (red_after[first_later] if weeks_ago else 0.0)
        yellow = yellow_now - (yellow_after[first_later] if weeks_ago else 0.0)
        trend.append(TrendPoint(when.date(), _money(red), _money(yellow)))

    configured = thresholds()  # the measures' configuration, read once for the page
    # The velocity and people measures' findings, as the last recompute of each account
    # measured them (or asked now, for the few it does not cover): insights.findings.
    velocity, people = summary_findings(now, book.index, configured)
    risk = risk_reading(book.index)
    _add_expected_loss(book, risk, by_segment=by_segment, by_team=by_team, by_quarter=by_quarter)
    total.expected_loss = risk.total_expected_loss
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
        blind_spots=with_risk_blind_spots(blind_spots(now, velocity, book, people), book, risk),
        actions=prioritised_actions(
            now, velocity=velocity, book=book, configured=configured, risk=risk, people=people
        ),
        risk=risk,
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
# - velocity:   the velocity measure (as configured) at least ``findings.VELOCITY_LEAD`` (+25%). The
#               measure colours yellow only at +50% by default, so +25–49% is a rise still
#               under it. A rise too thin to judge ("2 vs 0", or one chance explains) is
#               no finding: its row is no data.
# - people:     the people measures (``company.key_contact_left``,
#               ``company.title_downgrade``), as configured — windows, thresholds, enabled —
#               say yellow or red.
#
# The measures' findings are those of each account's last recompute, as the colours are;
# an account a recompute has not measured since its facts changed is asked as of now
# (``insights.findings``).
# - competitor: any competitor evaluation, engagement or mention. Exposure colours yellow
#               only at 1.0 (one fresh evaluation), so a mention or an older engagement
#               sits underneath.
#
# Each finding names the signal, its date and the account's ARR.

BLIND_WINDOW_DAYS = 90


@dataclass
class BlindSpot:
    account_id: int
    account: str
    arr: Decimal
    renewal_date: dt.date | None
    signal: str  # velocity, people, competitor, risk
    sentence: str
    on: dt.date
    # The account's latest renewal-risk prediction, when it has one (set by
    # with_risk_blind_spots for every blind spot, whatever its signal).
    probability: float | None = None
    expected_loss: Decimal | None = None
    prior: bool = False


SIGNAL_LABELS = {
    "velocity": "Ticket velocity",
    "people": "People change",
    "competitor": "Competitor exposure",
    "edm_left": "Decision maker left",
    "silent_sponsor": "Silent sponsor",
    "risk": "Renewal risk",
}


def blind_spots(
    now: dt.datetime,
    velocity: Velocity | None = None,
    book: pd.DataFrame | None = None,
    people: People | None = None,
) -> list[BlindSpot]:
    """Green accounts with a leading danger signal underneath; largest ARR first."""
    since = now - dt.timedelta(days=BLIND_WINDOW_DAYS)
    book = book if book is not None else book_frame()
    # The green accounts are the book's (live, overall green or not scored): each fact
    # query below reads its small table alone and keeps the green accounts' rows here,
    # rather than joining the accounts and scorecards in every query.
    green_ids = set(book.index[book["c0"] == G].tolist())
    found: list[tuple[int, str, str, dt.date]] = []
    if velocity is None or people is None:
        velocity, people = summary_findings(now, green_ids)
    for account_id, _v, sentence, last in velocity:
        if account_id in green_ids:
            found.append((account_id, "velocity", sentence, last))
    for account_id, _code, _value, sentence, on in people:
        if account_id in green_ids:
            found.append((account_id, "people", sentence, on))
    for account_id, competitor, activity, at in CompetitorEvent.objects.filter(
        occurred_at__gt=since, occurred_at__lte=now
    ).values_list("account_id", "competitor", "activity", "occurred_at"):
        if account_id not in green_ids:
            continue
        found.append(
            (account_id, "competitor", f"{activity.capitalize()} of {competitor}", at.date())
        )
    # One finding per account and signal: the latest.
    latest: dict[tuple[int, str], tuple[int, str, str, dt.date]] = {}
    for f in found:
        if (f[0], f[1]) not in latest or f[3] > latest[(f[0], f[1])][3]:
            latest[(f[0], f[1])] = f
    # Names, ARR and renewal from the book already read (green accounts are in it).
    keys = list(latest)
    at = book.index.get_indexer([a for a, _ in keys])
    name, arr, renewal = (book[c].to_numpy() for c in ("name", "arr", "renewal"))
    spots = [
        BlindSpot(a, name[i], _money(arr[i]), renewal[i], signal, *latest[(a, signal)][2:])
        for (a, signal), i in zip(keys, at.tolist(), strict=True)
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
        "Decision-maker outreach",
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
    # The expected ARR loss the priority weighs (None: the account has no prediction yet).
    expected_loss: Decimal | None = None
    probability: float | None = None
    prior: bool = False

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
    configured: list[Threshold] | None = None,
    risk: RiskReading | None = None,
    people: People | None = None,
) -> list[Action]:
    """The book's danger signals with the response that fits each, highest priority first.
    ``velocity`` and ``people``: the measures' findings (``summary_findings``), when read
    already."""
    book = book if book is not None else book_frame()
    risk = risk if risk is not None else risk_reading(book.index)
    configured = configured or thresholds()
    since = now - dt.timedelta(days=BLIND_WINDOW_DAYS)
    # The live accounts are the book's: the fact queries read their tables alone, and the
    # findings of churned accounts are dropped below against the book, not by a join each.
    found: dict[tuple[int, str], tuple[str, dt.date]] = {}

    def keep(account_id: int, signal: str, sentence: str, on: dt.date) -> None:
        if (account_id, signal) not in found or on > found[(account_id, signal)][1]:
            found[(account_id, signal)] = (sentence, on)

    if velocity is None or people is None:
        velocity, people = summary_findings(now, book.index, configured)
    for account_id, _v, sentence, last in velocity:  # one row per account
        found[(account_id, "velocity")] = (sentence, last)
    for account_id, competitor, at in CompetitorEvent.objects.filter(
        activity="evaluation", occurred_at__gt=since, occurred_at__lte=now
    ).values_list("account_id", "competitor", "occurred_at"):
        keep(account_id, "competitor", f"evaluating {competitor}", at.date())
    last_logged = dict(
        CheckIn.objects.filter(logged_at__isnull=False)
        .values("sponsorship_id")
        .annotate(last=Max("logged_at"))
        .values_list("sponsorship_id", "last")
    )
    quiet_since = now - dt.timedelta(days=SILENT_DAYS)
    for pk, account_id, started in Sponsorship.objects.filter(
        ended_on=None, started_on__lte=quiet_since.date()
    ).values_list("pk", "account_id", "started_on"):
        last = last_logged.get(pk)
        if last is None or last < quiet_since:
            on = last.date() if last else started
            keep(account_id, "silent_sponsor", f"no sponsor check-in since {on}", on)

    # Rank on the live book's ARR and renewal, names from it too (the frame the page has
    # loaded already): no further query, and arrays rather than a loop over every finding.
    live_ids = set(book.index.tolist())
    keys = [k for k in found if k[0] in live_ids]  # not churned
    # The decision makers gone, as the departure measure says (its findings).
    for account_id, finding in sorted(edm_left(people).items()):
        if account_id in live_ids:
            found[(account_id, "edm_left")] = finding
            keys.append((account_id, "edm_left"))
    if not keys:
        return []
    ranked = _ranked(keys, book, risk, now, limit)
    scores, days, at = ranked.scores, ranked.days, ranked.at
    name, arr, renewal = (book[c].to_numpy() for c in ("name", "arr", "renewal"))
    actions = [
        Action(
            keys[i][0],
            name[at[i]],
            _money(arr[at[i]]),
            renewal[at[i]],
            None if np.isnan(days[i]) else int(days[i]),
            keys[i][1],
            found[keys[i]][0],
            _date(found[keys[i]][1]),
            float(scores[i]),
            RESPONSES[keys[i][1]],
        )
        for i in ranked.candidates
    ]
    actions.sort(key=lambda a: (-a.priority, a.account, a.signal))
    actions = actions[:limit]
    _add_predictions(actions, risk)
    return actions


@dataclass(frozen=True)
class _Ranking:
    """The candidate findings (indices into the keys ranked: see ``_ranked``), and every
    finding's score, days to renewal and row in the book."""

    candidates: list[int]
    scores: np.ndarray
    days: np.ndarray
    at: np.ndarray


def _ranked(
    keys: list[tuple[int, str]], book: pd.DataFrame, risk: RiskReading, now: dt.datetime, limit: int
) -> _Ranking:
    """Score each finding ARR at stake × severity × closeness. The candidates: every finding
    scoring at least the (2 × limit)-th best, so that ties there are broken by name, not by
    which came first."""
    at = book.index.get_indexer([a for a, _ in keys])
    days = book["renewal_day"].to_numpy()[at] - now.date().toordinal()  # NaN: no date
    near = np.where(np.isnan(days), 0.2, 1 / (1 + np.maximum(days, 0) / 90))
    severity = np.fromiter((SEVERITY[sig] for _, sig in keys), dtype=float, count=len(keys))
    scores = at_stake(book, risk)[at] * severity * near
    candidates: list[int] = []
    if keys and limit > 0:
        cut = np.sort(scores)[::-1][min(limit * 2, len(scores)) - 1]
        candidates = np.flatnonzero(scores >= cut).tolist()
    return _Ranking(candidates, scores, days, at)


# --- renewal risk in dollars --------------------------------------------------------------------
#
# The risk model's latest predictions (read in ``insights.predictions``) as the summary's
# dollars: expected ARR loss per segment, team and renewal quarter beside the colours; green
# accounts in the top decile of risk as blind spots; and the stake each action weighs.


def _expected_loss_column(book: pd.DataFrame, risk: RiskReading) -> np.ndarray:
    """Each book row's expected ARR loss, 0 for an account with no prediction."""
    return risk.scored["expected_loss"].reindex(book.index, fill_value=0.0).to_numpy(float)


def _add_expected_loss(book: pd.DataFrame, risk: RiskReading, **groups: list[Bucket]) -> None:
    """Set ``expected_loss`` on the segment, team and quarter buckets (left None when no
    account is scored: a sum of nothing is not a zero risk)."""
    if not risk.n_scored:
        return
    loss = _expected_loss_column(book, risk)
    column = {"by_segment": "segment", "by_team": "team", "by_quarter": "quarter"}
    for name, buckets in groups.items():
        sums = pd.Series(loss).groupby(book[column[name]].to_numpy()).sum()
        for bucket in buckets:
            bucket.expected_loss = _money(float(sums.get(bucket.key, 0.0)))


def at_stake(book: pd.DataFrame, risk: RiskReading) -> np.ndarray:
    """What an action on each book row can save: its expected ARR loss. An account not yet
    scored counts at the book's median risk (its ARR × the median probability), so a new
    account neither leads nor vanishes; with no prediction at all, the ARR itself."""
    arr = book["arr"].to_numpy(float)
    if not risk.n_scored:
        return arr
    probability = risk.scored["probability"].reindex(book.index).to_numpy(float)
    median = float(np.median(risk.scored["probability"].to_numpy()))
    loss = risk.scored["expected_loss"].reindex(book.index).to_numpy(float)
    return np.where(np.isnan(probability), arr * median, loss)


def _add_predictions(rows: list[BlindSpot] | list[Action], risk: RiskReading) -> None:
    """Set each row's probability, expected loss and prior flag from its account's latest
    prediction (no query: the reading is already loaded; arrays, not a lookup per row)."""
    if not rows or not risk.n_scored:
        return
    at = risk.scored.index.get_indexer([row.account_id for row in rows])
    probability, loss, prior = (
        risk.scored[c].to_numpy()[at].tolist() for c in ("probability", "expected_loss", "prior")
    )
    for row, i, p, x, flag in zip(rows, at.tolist(), probability, loss, prior, strict=True):
        if i >= 0:
            row.probability, row.expected_loss, row.prior = float(p), _money(x), bool(flag)


def risk_blind_spots(book: pd.DataFrame, risk: RiskReading) -> list[BlindSpot]:
    """Green accounts in the top decile of renewal risk, with what pushes the risk up."""
    threshold = risk.top_threshold()
    if threshold is None:
        return []
    scored = risk.scored
    green = scored.index.isin(book.index[book["c0"] == G])
    top = scored[green & (scored["probability"].to_numpy() >= threshold)]
    ids = top.index.tolist()
    details = latest_details(ids)
    at = book.index.get_indexer(ids)
    name, arr, renewal = (book[c].to_numpy()[at].tolist() for c in ("name", "arr", "renewal"))
    probability, prior = top["probability"].tolist(), top["prior"].tolist()
    share = f"top {TOP_SHARE:.0%} of the book"
    spots = []
    for k, account_id in enumerate(ids):
        words, computed = details.get(account_id, ([], None))
        sentence = f"Green scorecard, but risk {probability[k]:.0%} — {share}"
        if words:
            sentence += ": " + "; ".join(words)
        if prior[k]:
            sentence += f" ({PRIOR_NOTE})"
        on = computed.date() if computed else None
        spots.append(
            BlindSpot(account_id, name[k], _money(arr[k]), renewal[k], "risk", sentence, on)
        )
    return spots


def with_risk_blind_spots(
    spots: list[BlindSpot], book: pd.DataFrame, risk: RiskReading
) -> list[BlindSpot]:
    """The signal-based blind spots and the high-risk green accounts together, each with
    its account's prediction; in the blind spots' order (largest ARR first)."""
    spots = [*spots, *risk_blind_spots(book, risk)]
    _add_predictions(spots, risk)
    spots.sort(key=lambda s: (-s.arr, s.account, s.signal))
    return spots
