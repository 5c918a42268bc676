"""Product-analytics calls (Segment) rolled up into daily usage per organisation.

Raw calls are never stored one row per call. For each request, in one transaction:

1. each call is checked; a ``group`` call says which organisation (groupId, an account's
   external id) a user belongs to (``ProductUser``, the latest call wins); a ``track`` or
   ``identify`` call is counted for the organisation named by its ``context.groupId``, else
   by its user's group (from this batch or an earlier one). A call whose user has no group
   is rejected with that reason;
2. the message ids go into ``SeenMessage`` with ``INSERT … ON CONFLICT DO NOTHING``: only
   the ids that went in are counted, so a replay (Segment retries, a resent batch, two
   requests at once) counts nothing twice. The ids and the counts commit together;
3. ``ActiveUserDay`` (one row per user, organisation and day) makes the active users a
   count of distinct users; ``DailyUsage`` and ``DailyFeatureUsage`` (the configured key
   features' track events) are incremented with one upsert each.

The de-duplication store is bounded: ids (and user-days) older than
CSRISK_USAGE_DEDUPE_DAYS are deleted by the sweeper, and a call whose timestamp is older
than that window is refused, so an id that was forgotten can never be counted again.
An organisation nobody knows is rolled up all the same, with no account (parked), and
gets its account when one gains that external id or a person matches it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from accounts.models import DailyFeatureUsage, DailyUsage, UsageSnapshot
from csrisk import clock
from scorecards.services import request_recompute
from signals.adapters import SegmentCall
from signals.models import ActiveUserDay, ProductUser, SeenMessage
from signals.normalise import Head, Invalid, Unreadable, parse_time
from signals.services.health import ingest_counted, rejection_record
from signals.services.matching import resolve_orgs
from signals.services.outcomes import ACCEPTED, DUPLICATE

COUNTED = ("track", "identify")  # the calls that make a user active on a day
CHUNK = 1000  # rows per multi-row statement


@dataclass
class UsageAnswer:
    """What a request's calls came to (the webhook's 202 answer)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    ignored: int = 0  # page, screen, alias: read, not counted
    parked: int = 0  # counted for an organisation no account has (yet)
    rejections: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "parked": self.parked,
            "rejections": self.rejections[:100],
        }


def _day(stamp: str, now: dt.datetime) -> dt.date:
    """The UTC day of a call's timestamp (the usual 2026-10-01T09:30:00.123Z is read by
    ``fromisoformat`` alone; anything else by ``parse_time``, which says what is wrong)."""
    if len(stamp) >= 20 and stamp[-1] == "Z" and stamp[10] == "T":
        try:
            when = dt.datetime.fromisoformat(stamp[:-1])
        except ValueError:
            when = None
        if when is not None:
            if when > (now + dt.timedelta(days=1)).replace(tzinfo=None):
                raise Invalid(f"timestamp {stamp!r} is in the future")
            return when.date()
    return parse_time(stamp, "timestamp", now=now).date()


def _date(day: dt.date) -> str:
    return day.isoformat()


# The PostgreSQL type of each column the rollup writes (for ``unnest``).
_TYPES = {
    "source": "text", "org_ref": "text", "message_id": "text", "user_id": "text",
    "feature": "text", "seen_on": "date", "day": "date", "account_id": "bigint",
    "active_users": "integer", "events": "integer", "updated_at": "timestamptz",
    "week": "date", "licensed_users": "integer", "adoption": "double precision",
}  # fmt: skip


def _chunks(rows: Sequence[tuple], size: int = CHUNK) -> Iterable[Sequence[tuple]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _rows(columns: tuple[str, ...], rows: Sequence[tuple]) -> tuple[str, list[Any]]:
    """The rows as a statement's source: on PostgreSQL one array per column through
    ``unnest`` (a few parameters however many rows: parsing a VALUES list of thousands of
    literals cost more than the insert), elsewhere a multi-row VALUES."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{_TYPES[c]}[]" for c in columns)
        return f"SELECT * FROM unnest({arrays})", [list(col) for col in zip(*rows, strict=True)]
    row = f"({', '.join(['%s'] * len(columns))})"
    return f"VALUES {', '.join([row] * len(rows))}", [v for r in rows for v in r]


def _insert_new(table: str, columns: tuple[str, ...], rows: Sequence[tuple], key: str) -> list:
    """INSERT the rows, skipping those whose unique key is there already; return the
    ``key`` columns of the rows that went in."""
    q = connection.ops.quote_name
    out: list = []
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            source, params = _rows(columns, chunk)
            cursor.execute(
                f"INSERT INTO {q(table)} ({', '.join(columns)}) {source} "
                f"ON CONFLICT DO NOTHING RETURNING {key}",
                params,
            )
            out += cursor.fetchall()
    return out


def _add(
    table: str, columns: tuple[str, ...], rows: Sequence[tuple], conflict: str, sets: str
) -> None:
    """Upsert the rows (distinct keys), ``sets`` saying how a stored row takes a new one."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for chunk in _chunks(rows):
            source, params = _rows(columns, chunk)
            cursor.execute(
                f"INSERT INTO {q(table)} AS t ({', '.join(columns)}) {source} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}",
                params,
            )


def _groups_of(source: str, users: set[str]) -> dict[str, str]:
    """The stored group of each user (one array parameter on PostgreSQL rather than an IN
    list of a thousand the ORM compiles every time)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT user_id, org_ref FROM {ProductUser._meta.db_table} "
                "WHERE source = %s AND user_id = ANY(%s)",
                [source, list(users)],
            )
            return dict(cursor.fetchall())
    rows = ProductUser.objects.filter(source=source, user_id__in=users)
    return dict(rows.values_list("user_id", "org_ref"))


def key_features() -> frozenset[str]:
    return frozenset(f.strip() for f in settings.CSRISK_USAGE_KEY_FEATURES if f.strip())


def usage_record(calls: Sequence[SegmentCall | Unreadable], *, source: str) -> UsageAnswer:
    """Roll one request's calls up into daily usage, exactly once per message id (see the
    module's docstring). Runs in its own transaction."""
    now = clock.now()
    answer = UsageAnswer()
    oldest = now.date() - dt.timedelta(days=settings.CSRISK_USAGE_DEDUPE_DAYS)

    def reject(index: int, ref: str, reason: str) -> None:
        answer.rejected += 1
        answer.rejections.append({"index": index, "message_id": ref, "reason": reason})

    checked: list[tuple[int, SegmentCall, dt.date]] = []
    seen: set[str] = set()
    for index, call in enumerate(calls):
        if isinstance(call, Unreadable):
            reject(index, call.external_id, call.reason)
            continue
        try:
            day = _day(call.timestamp, now)
        except Invalid as exc:
            reject(index, call.message_id, str(exc))
            continue
        if day < oldest:
            reject(
                index,
                call.message_id,
                f"older than the {settings.CSRISK_USAGE_DEDUPE_DAYS}-day de-duplication "
                "window; not counted",
            )
            continue
        if call.message_id in seen:
            answer.duplicates += 1
            continue
        seen.add(call.message_id)
        if call.type not in COUNTED and call.type != "group":
            answer.ignored += 1
            continue
        if call.type != "group" and not call.user_id:
            reject(index, call.message_id, "a call needs userId or anonymousId")
            continue
        checked.append((index, call, day))

    with transaction.atomic():
        # Which organisation each user belongs to: this batch's group calls (the latest),
        # else the stored ones.
        groups: dict[str, tuple[str, str]] = {}
        for _, call, _ in checked:
            later = call.user_id not in groups or groups[call.user_id][1] <= call.timestamp
            if call.type == "group" and call.user_id and later:
                groups[call.user_id] = (call.group_id, call.timestamp)
        need = {c.user_id for _, c, _ in checked if c.type != "group" and not c.group_id}
        need -= groups.keys()
        stored = _groups_of(source, need) if need else {}
        counted: list[tuple[int, SegmentCall, dt.date, str]] = []
        for index, call, day in checked:
            org = call.group_id
            if call.type != "group" and not org:
                org = (
                    groups[call.user_id][0] if call.user_id in groups else stored.get(call.user_id)
                )
                if not org:
                    reject(
                        index,
                        call.message_id,
                        f"no group known for user {call.user_id!r}: send a group call first "
                        "or context.groupId",
                    )
                    continue
            counted.append((index, call, day, org))

        fresh = {
            row[0]
            for row in _insert_new(
                SeenMessage._meta.db_table,
                ("source", "message_id", "seen_on"),
                [(source, c.message_id, _date(now.date())) for _, c, _, _ in counted],
                "message_id",
            )
        }
        answer.duplicates += len(counted) - len(fresh)
        new = [(c, day, org) for _, c, day, org in counted if c.message_id in fresh]
        answer.accepted = len(new)

        members = {}
        for c, _, org in new:
            if c.type == "group" and c.user_id:
                members[c.user_id] = (org, c.timestamp)
        if members:
            _add(
                ProductUser._meta.db_table,
                ("source", "user_id", "org_ref", "updated_at"),
                [
                    (
                        source,
                        user,
                        org,
                        parse_time(stamp, "timestamp", now=now).isoformat(),
                    )
                    for user, (org, stamp) in members.items()
                ],
                "source, user_id",
                "org_ref = excluded.org_ref, updated_at = excluded.updated_at "
                "WHERE t.updated_at <= excluded.updated_at",
            )

        events: Counter[tuple[str, dt.date]] = Counter()
        features: Counter[tuple[str, dt.date, str]] = Counter()
        users: set[tuple[str, dt.date, str]] = set()
        wanted = key_features()
        for c, day, org in new:
            if c.type == "group":
                continue
            events[(org, day)] += 1
            users.add((org, day, c.user_id))
            if c.type == "track" and c.event in wanted:
                features[(org, day, c.event)] += 1
        if not events:
            _record_rejections(answer, source)
            return answer
        active: Counter[tuple[str, dt.date]] = Counter()
        for org, day in _insert_new(
            ActiveUserDay._meta.db_table,
            ("source", "org_ref", "day", "user_id"),
            [(source, org, _date(day), user) for org, day, user in users],
            "org_ref, day",
        ):
            active[(org, dt.date.fromisoformat(str(day)[:10]))] += 1
        orgs = {org for org, _ in events}
        found, _ = resolve_orgs([Head("usage", source, "", None, org) for org in orgs])
        answer.parked = sum(n for (org, _), n in events.items() if org not in found)
        _add(
            DailyUsage._meta.db_table,
            ("source", "org_ref", "day", "account_id", "active_users", "events"),
            [
                (source, org, _date(day), found.get(org), active[(org, day)], n)
                for (org, day), n in events.items()
            ],
            "source, org_ref, day",
            "active_users = t.active_users + excluded.active_users, "
            "events = t.events + excluded.events, "
            "account_id = COALESCE(t.account_id, excluded.account_id)",
        )
        if features:
            _add(
                DailyFeatureUsage._meta.db_table,
                ("source", "org_ref", "day", "feature", "events"),
                [(source, org, _date(day), f, n) for (org, day, f), n in features.items()],
                "source, org_ref, day, feature",
                "events = t.events + excluded.events",
            )
        usage_weeks_record({found[org]: {day} for org, day in events if org in found})
    _record_rejections(answer, source)
    ingest_counted(source, ACCEPTED, answer.accepted)
    ingest_counted(source, DUPLICATE, answer.duplicates)
    return answer


def _record_rejections(answer: UsageAnswer, source: str) -> None:
    if answer.rejected:
        rejection_record(
            source=source, count=answer.rejected, reason=answer.rejections[-1]["reason"]
        )


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _week_sql(column: str) -> str:
    """The Monday of a date column's week, in SQL."""
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('week', {column}) AS date)"
    return f"date({column}, 'weekday 0', '-6 days')"  # the next Sunday (or itself) − 6 days


def usage_weeks_record(days_by_account: dict[int, set[dt.date]]) -> int:
    """Make the daily rollup of these accounts' days the weekly usage facts the habits
    measures read (``UsageSnapshot``, what a REST ``usage`` signal writes): for the week of
    each day, once the week is over (a week in progress is not a week's figure: Monday's
    few users would read as a fall every Monday; ``usage_weeks_close`` writes each week
    when it ends, and a late call for an ended week rewrites it at once),

    - active users = the distinct users active on any day of the week (``ActiveUserDay``,
      across the account's organisations and sources), or the busiest day's count once the
      week's user-days have been swept;
    - adoption = the share of the configured key features (CSRISK_USAGE_KEY_FEATURES) with
      at least one track event in the week; none configured: left as it was;
    - licensed users: the analytics source does not know them; kept as the CRM or a REST
      signal last set them (0, "no licence figure", on a new week).

    The latest writer of a week wins, as between two REST signals of one week. Marks the
    accounts for recompute. Returns the weeks written."""
    today = clock.today()
    weeks = {
        (a, monday)
        for a, days in days_by_account.items()
        for monday in {_monday(d) for d in days}
        if monday + dt.timedelta(days=7) <= today
    }
    if not weeks:
        return 0
    accounts = sorted({a for a, _ in weeks})
    first = min(w for _, w in weeks)
    last = max(w for _, w in weeks) + dt.timedelta(days=6)
    week = _week_sql("d.day")
    span = [_date(first), _date(last)]
    users: dict[tuple[int, dt.date], int] = {}
    used: dict[tuple[int, dt.date], int] = {}
    wanted = sorted(key_features())
    with connection.cursor() as cursor:
        for chunk in _chunks([(a,) for a in accounts], 500):  # SQLite's parameter limit
            ids = [a for (a,) in chunk]
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT d.account_id, {week}, COUNT(DISTINCT a.user_id), MAX(d.active_users) "
                f"FROM {DailyUsage._meta.db_table} d LEFT JOIN {ActiveUserDay._meta.db_table} a "
                "ON a.source = d.source AND a.org_ref = d.org_ref AND a.day = d.day "
                f"WHERE d.account_id IN ({marks}) AND d.day >= %s AND d.day <= %s "
                f"GROUP BY d.account_id, {week}",
                [*ids, *span],
            )
            for account_id, monday, distinct, busiest in cursor.fetchall():
                users[(account_id, _as_date(monday))] = max(distinct or 0, busiest or 0)
            if wanted:
                cursor.execute(
                    f"SELECT d.account_id, {week}, COUNT(DISTINCT f.feature) FROM "
                    f"{DailyFeatureUsage._meta.db_table} f JOIN {DailyUsage._meta.db_table} d "
                    "ON d.source = f.source AND d.org_ref = f.org_ref AND d.day = f.day "
                    f"WHERE d.account_id IN ({marks}) AND d.day >= %s AND d.day <= %s "
                    f"AND f.feature IN ({', '.join(['%s'] * len(wanted))}) "
                    f"GROUP BY d.account_id, {week}",
                    [*ids, *span, *wanted],
                )
                used.update({(a, _as_date(m)): n for a, m, n in cursor.fetchall()})
    rows = [
        (a, _date(w), users[(a, w)], 0, used.get((a, w), 0) / len(wanted) if wanted else None)
        for a, w in sorted(weeks)
        if (a, w) in users
    ]
    _add(
        UsageSnapshot._meta.db_table,
        ("account_id", "week", "active_users", "licensed_users", "adoption"),
        rows,
        "account_id, week",
        "active_users = excluded.active_users, adoption = COALESCE(excluded.adoption, t.adoption)",
    )
    request_recompute(accounts)
    return len(rows)


CLOSED_KEY = "csrisk:usage:week-closed:{}"


def usage_weeks_close() -> int:
    """Write the weekly usage facts of the weeks that ended lately (the last two, so a
    sweep missed at a week's turn is made up), for every account with daily usage in them;
    once per week (the sweeper calls this every 30 s). A week without a single call writes
    nothing: silence is "no data", as when a REST sender stops. Returns the weeks written."""
    last = _monday(clock.today()) - dt.timedelta(days=7)
    if not cache.add(CLOSED_KEY.format(last.isoformat()), True, timeout=8 * 86400):
        return 0
    first = last - dt.timedelta(days=7)
    days: dict[int, set[dt.date]] = {}
    for account_id, day in (
        DailyUsage.objects.filter(
            account__isnull=False, day__gte=first, day__lt=last + dt.timedelta(days=7)
        )
        .values_list("account_id", "day")
        .distinct()
    ):
        days.setdefault(account_id, set()).add(day)
    return usage_weeks_record(days)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def usage_sweep() -> int:
    """Forget message ids older than the de-duplication window (calls that old are refused,
    so none of them can be counted again) and user-days older than the Monday of that
    window's first week (a late call may still complete that week: its distinct users,
    ``usage_weeks_record``, need the week's earlier days). Returns rows deleted."""
    oldest = clock.today() - dt.timedelta(days=settings.CSRISK_USAGE_DEDUPE_DAYS)
    gone, _ = SeenMessage.objects.filter(seen_on__lt=oldest).delete()
    users, _ = ActiveUserDay.objects.filter(day__lt=_monday(oldest)).delete()
    usage_weeks_close()
    return gone + users
