"""Reads for scorecards: the facts as DataFrames, and scorecards shaped for pages and API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, partial

import pandas as pd
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet

from accounts.choices import LifecycleStage
from accounts.models import Account
from csrisk import events
from csrisk.db import IDS_IN, dialect, id_array, reads_may_run_concurrently
from scorecards.choices import AreaCode
from scorecards.colour_rule import AreaInfo, CtaFloor, OverrideInfo
from scorecards.measures import (
    COLOR_RANK,
    DECLARED,
    DEFAULT_THRESHOLDS,
    DEFERRED,
    MEASURE_COLUMNS,
    Frames,
    Threshold,
    TicketAggregate,
    critical_priorities,
    run_measures,
)
from scorecards.models import (
    Area,
    AreaScore,
    ColorChange,
    CtaPressure,
    MeasureConfig,
    Override,
    Scorecard,
)

# The columns of each fact table the measures read raw (the shape of ``Frames``). Tickets
# and weekly usage, the biggest tables, are aggregated per account in SQL instead
# (``ticket_stats``, ``usage_stats``).
FRAME_COLUMNS: dict[str, list[str]] = {
    "sentiment": ["id", "account_id", "responded_at", "nps", "csat"],
    "contacts": ["id", "account_id", "name", "title", "roles", "at_company", "left_on"],
    "people": [
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
    "competitors": ["id", "account_id", "competitor", "activity", "occurred_at"],
    "milestones": ["id", "account_id", "name", "due_on", "completed_on"],
    "readiness": ["id", "account_id", "assessed_on", "data", "skills", "staffing"],
}


TIMESTAMPS = {"opened_at", "solved_at", "responded_at", "occurred_at"}
JSON_COLUMNS = {"tags", "roles"}
OPEN_TICKET = ("new", "open", "pending")

# One plain SQL statement per fact table. The ORM costs about 1 ms a query to build and
# more per row to convert, which a single-account recompute (nine small queries) and a
# full one (hundreds of thousands of rows) both feel; the rows go straight to pandas.
FRAME_SQL: dict[str, str] = {
    # The answers of the configured windows, and at most one older NPS answer (of the
    # HORIZON_DAYS): ``measures.nps_level`` tells "no NPS answer at all" (no reason links)
    # from "none in the window" by whether the frame holds any, so that one answer keeps
    # its reasons — and their digests — as they were when all HORIZON_DAYS were loaded.
    # Every window drops it.
    "sentiment": "WITH s AS (SELECT {cols} FROM accounts_sentimentresponse"
    " WHERE account_id {in_ids} AND responded_at >= %s)"
    " SELECT * FROM s WHERE responded_at >= %s"
    " UNION ALL SELECT * FROM (SELECT * FROM s WHERE responded_at < %s AND nps IS NOT NULL"
    " LIMIT 1) older",
    # Only key contacts (EDM, Champion): the only ones the people measures read.
    "contacts": "SELECT {cols} FROM accounts_contact WHERE account_id {in_ids} AND {key_role}",
    "people": "SELECT {cols} FROM accounts_peoplechange WHERE account_id {in_ids}"
    " AND occurred_at >= %s",
    "competitors": "SELECT {cols} FROM accounts_competitorevent WHERE account_id {in_ids}"
    " AND occurred_at >= %s",
    # Only milestones open as of ``now`` (completed later was still open): a superset of
    # what any later as-of date needs, so the backtest's one load still covers its runs.
    "milestones": "SELECT {cols} FROM accounts_milestone WHERE account_id {in_ids}"
    " AND (completed_on IS NULL OR completed_on > %s)",
    "readiness": "SELECT {cols} FROM accounts_readinessassessment WHERE account_id {in_ids}",
}


def _columns_sql(name: str) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in FRAME_COLUMNS[name])


_KEY_ROLE = {
    "postgresql": "(roles @> '[\"edm\"]' OR roles @> '[\"champion\"]')",
    "sqlite": "(roles LIKE '%%\"edm\"%%' OR roles LIKE '%%\"champion\"%%')",
}


# frame → the measures that read it (from their declarations): a frame no enabled measure
# reads is not queried (like ``TICKET_GROUPS``).
FRAME_READERS: dict[str, tuple[str, ...]] = {
    name: tuple(m.code for m in DECLARED if name in m.reads) for name in FRAME_SQL
}


def _frame(name: str, ids: list[int], extra: list) -> pd.DataFrame:
    key_role = _KEY_ROLE[dialect()]
    fragments = {
        "cols": _columns_sql(name),
        "key_role": key_role,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array parameter: 2,000 ids parse in no time
            sql = FRAME_SQL[name].format(in_ids=IDS_IN["postgresql"], **fragments)
            cursor.execute(sql, [id_array(ids), *extra])
        else:
            in_ids = "IN (" + ", ".join(["%s"] * len(ids)) + ")"
            cursor.execute(FRAME_SQL[name].format(in_ids=in_ids, **fragments), [*ids, *extra])
        rows = cursor.fetchall()
    return _shaped(name, rows)


@cache
def _empty(name: str) -> pd.DataFrame:
    """A fact table no enabled measure reads: empty, one frame shared (measures only read
    their frames), as building it costs ~0.5 ms a table a recompute."""
    return _shaped(name, [])


def _shaped(name: str, rows: list[tuple]) -> pd.DataFrame:
    """A fact table's rows as the measures read them (the columns of ``FRAME_COLUMNS``)."""
    columns = FRAME_COLUMNS[name]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for col in JSON_COLUMNS & set(columns):
        frame[col] = _json_lists(frame[col].tolist())
    for col in TIMESTAMPS & set(columns):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


READ_SETTINGS = (
    "SET LOCAL jit = off; SET LOCAL work_mem = '64MB';"
    " SET LOCAL max_parallel_workers_per_gather = 0"
)


@contextmanager
def _without_jit() -> Iterator[None]:
    """Settings for these reads, local to their transaction (READ_SETTINGS). JIT off: it
    compiles when a statement's estimated cost is high, and the tag explosion of
    ``_recurrence_stats`` is estimated at 100 rows a ticket: the compile took half of that
    statement's time, and never pays for itself on reads of a few hundred milliseconds.
    More work_mem: the grouped scans sort a few hundred thousand ticket rows for the
    ordered aggregates (reason links, medians), which spilled to disk at the default 4 MB.
    No parallel workers: a big recompute already reads on several connections
    (``recomputation.CONCURRENT_READS``) and a spread run on several worker processes, so
    the cores are taken; a Gather's workers then only add their own cost (partial
    aggregates, sorts merged, processes started). Measured on a chunk of 4,785 accounts of
    the 100,000-account book read one statement after another: the recurrence read's
    server CPU 423 → 229 ms at the same wall time. A whole run taken by 1 or 2 workers
    costs the same either way (45–49 CPU seconds): there the reads already share the cores."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(READ_SETTINGS)
        yield


def _json_lists(values: list) -> list:
    """Parse JSON lists of labels (tags, roles). They repeat a lot, so each distinct text is
    parsed once (parsing was a third of a full recompute's loading), and rows with the same
    text share its list: the measures only read them (a copy a row cost ~50 ms a full
    recompute)."""
    parsed: dict[str, list] = {}
    out = []
    for v in values:
        if isinstance(v, str):
            if v not in parsed:
                parsed[v] = json.loads(v)
            v = parsed[v]
        out.append(v)
    return out


def load_frames(
    account_ids: list[int],
    now: dt.datetime,
    measure_thresholds: list[Threshold] | None = None,
    *,
    aggregates: bool = True,
    links: bool = True,
) -> Frames:
    """Every fact the measures read for these accounts as of ``now``: per-account ticket
    and usage aggregates (for the windows of ``measure_thresholds``, the configured ones
    when None) and the other facts one query per table — only what the enabled measures
    among them read (the rest are empty). ``aggregates=False`` leaves the ticket and usage
    aggregates empty, for a caller that takes them per date (the backtest). ``links=False``
    skips what only stored reasons need (the velocity signature), for readers of values."""
    ids = list(account_ids)
    configured = thresholds() if measure_thresholds is None else measure_thresholds
    return frames_from(ids, now, _read_all(_reads(ids, now, configured, aggregates, links)))


def load_frames_and_state(
    account_ids: list[int], now: dt.datetime, measure_thresholds: list[Threshold]
) -> tuple[Frames, RecomputeState]:
    """``load_frames`` and what a recompute compares against and applies, one read after
    the other on this connection (``recompute_reads``)."""
    ids = list(account_ids)
    results = _read_all(recompute_reads(ids, now, measure_thresholds))
    return frames_from(ids, now, results), state_from(results)


def _read_all(reads: list[tuple[str, Callable[[], object]]]) -> dict[str, object]:
    """Each read's result by name, one after the other on this connection, with the read
    settings (``_without_jit``)."""
    with _without_jit():
        return {name: read() for name, read in reads}


def recompute_reads(
    account_ids: list[int], now: dt.datetime, measure_thresholds: list[Threshold]
) -> list[tuple[str, Callable[[], object]]]:
    """Every read of a recompute as (name, function), the longest first: the facts the
    enabled measures read (``load_frames``; ``measure_reads`` says which each needs), then
    the stored scorecards (``stored_cards``), the CTA floors and the live overrides. Each
    may run on a connection of its own (``csrisk.db.concurrent_reads``, with
    ``READ_SETTINGS``); ``frames_from`` and ``state_from`` assemble the results."""
    ids = list(account_ids)
    return [
        *_reads(ids, now, measure_thresholds, True),
        ("stored_cards", partial(stored_cards, ids)),
        ("cta_floors", partial(cta_floors, ids)),
        ("overrides", partial(live_overrides, ids, now)),
    ]


def measure_reads(code: str) -> set[str]:
    """The names of the reads (``recompute_reads``) measure ``code`` needs; every fact read
    for a measure that declares none (it then waits for them all)."""
    names = {f"tickets.{group}" for group, codes in TICKET_GROUPS.items() if code in codes}
    names |= {name for name, codes in FRAME_READERS.items() if code in codes}
    if code in USAGE_READERS:
        names.add("usage")
    return names or {*(f"tickets.{g}" for g in TICKET_GROUPS), "usage", *FRAME_SQL}


def state_from(results: dict[str, object]) -> RecomputeState:
    return results["stored_cards"], results["cta_floors"], results["overrides"]


# What a recompute compares against and applies: the stored scorecards (the area digests
# are looked up only for the accounts whose ``areas_digest`` moved: ``stored_areas``), the
# CTA floors and the live overrides (``load_frames_and_state``).
RecomputeState = tuple[
    dict[int, tuple],
    dict[tuple[int, str], CtaFloor],
    dict[tuple[int, str], OverrideInfo],
]


def concurrent_reads_wanted(accounts: int) -> bool:
    """Whether a recompute of this many accounts, starting here and now, reads on several
    connections: many accounts (``SCORECARD_CONCURRENT_READS_MIN``; a few accounts' reads
    take less than opening a connection), PostgreSQL, and no transaction open here (the
    other connections would not see its writes). Ask before the recompute opens its own."""
    least = settings.SCORECARD_CONCURRENT_READS_MIN
    return 0 < least <= accounts and reads_may_run_concurrently()


def _reads(
    ids: list[int],
    now: dt.datetime,
    configured: list[Threshold],
    aggregates: bool,
    links: bool = True,
) -> list[tuple[str, Callable[[], object]]]:
    """The reads of ``load_frames`` as (name, function), the longest first: the ticket
    aggregates of the enabled measures, weekly usage, and each fact table an enabled
    measure reads."""
    horizon = now - dt.timedelta(days=HORIZON_DAYS)
    answers = now - dt.timedelta(days=_horizon_days(configured, "sentiment"))
    extra: dict[str, list] = {
        "sentiment": [horizon, answers, answers],
        "people": [horizon],
        "competitors": [now - dt.timedelta(days=_horizon_days(configured, "competitors"))],
        "milestones": [connection.ops.adapt_datefield_value(now.date())],
    }
    enabled = {t.code for t in configured if t.enabled}
    reads: list[tuple[str, Callable[[], object]]] = [
        (
            f"tickets.{group}",
            partial(query, ids, now, t, links=False)
            if not links and group in SIGNED_GROUPS
            else partial(query, ids, now, t),
        )
        for group, query, t in _ticket_queries(configured if aggregates else [])
    ]
    reads.append(("usage", partial(usage_stats, ids, now, configured if aggregates else [])))
    reads += [
        (name, partial(_frame, name, ids, extra.get(name, [])))
        for name in FRAME_SQL
        if enabled.intersection(FRAME_READERS[name])
    ]
    return reads


def frames_from(ids: list[int], now: dt.datetime, results: dict[str, object]) -> Frames:
    """The ``Frames`` of the fact reads among ``results`` (a read not there: empty)."""
    tickets = [
        results[f"tickets.{group}"] for group in _TICKET_QUERIES if f"tickets.{group}" in results
    ]
    return Frames(
        now=pd.Timestamp(now).tz_convert("UTC"),
        account_ids=ids,
        tickets=_joined(tickets),
        usage=results.get("usage", _no_usage()),
        **{name: results[name] if name in results else _empty(name) for name in FRAME_SQL},
    )


# The measures that read each dated fact table, and how far back each reads: its window
# (``window_days``) or, for the drops, two windows (``Measure.reads_back``). (People changes
# stay HORIZON_DAYS: few rows, and ``measures.reorg`` tells "none at all" from "none in the
# window" as ``nps_level`` does.)
_READS_BACK: dict[str, dict[str, int]] = {
    table: {m.code: n for m in DECLARED for t, n in m.reads_back if t == table}
    for table in ("sentiment", "competitors")
}
HORIZON_DAYS = 400  # the longest any measure looks back


def _horizon_days(configured: list[Threshold], table: str) -> int:
    """How many days of a dated fact table the configured measures read (at most
    HORIZON_DAYS, as before): the defaults read 180 days of answers, where 400 days were
    loaded and converted — twice the rows of the biggest raw table for nothing. Without any
    of its measures configured (the backtest loads before it knows its dates) all
    HORIZON_DAYS."""
    reads = _READS_BACK[table]
    wanted = [t.window_days * reads[t.code] for t in configured if t.code in reads]
    return min(HORIZON_DAYS, max(wanted)) if wanted else HORIZON_DAYS


# --- tickets, aggregated per account in SQL -------------------------------------------------
#
# Tickets are by far the biggest table (32 months of them), so the database aggregates them
# per account and the measures get one row per account. Point in time exactly as
# ``measures.as_of``: tickets opened after ``now`` do not exist; a ticket solved after ``now``
# was still open (and not yet solved).

TICKET_COLUMNS: dict[str, list[str]] = {
    "velocity": ["v_n1", "v_n0", "v_refs"],
    "state": [
        "u_n",
        "u_oldest",
        "u_refs",
        "d_urgent",
        "d_high",
        "d_normal",
        "d_low",
        "d_other",
        "d_refs",
        "r_n1",
        "r_n0",
        "r_m1",
        "r_m0",
        "r_refs",
    ],
    "recurrence": ["c_n", "c_group", "c_tag", "c_refs"],
}
# The measures' own aggregates (``Measure.ticket_sql``): one statement each, its columns.
for _m in DECLARED:
    if _m.ticket_sql is not None:
        TICKET_COLUMNS[_m.code] = [c for c, _ in _m.ticket_sql.columns]
# aggregate → the measures that read its columns (from their declarations)
TICKET_GROUPS: dict[str, tuple[str, ...]] = {
    group: tuple(
        m.code
        for m in DECLARED
        if f"tickets.{group}" in m.reads or (m.ticket_sql is not None and m.code == group)
    )
    for group in TICKET_COLUMNS
}
_OPEN = "(status IN ('new', 'open', 'pending') OR solved_at > %(now)s)"
# Where PostgreSQL and SQLite differ: the fragments below, nothing else. Conditions are
# written with unqualified columns of accounts_ticket, so they read the same in a FILTER
# clause as in a correlated subquery.
_VENDOR: dict[str, dict[str, str]] = {
    "postgresql": {
        # one array parameter (hashed: the column type), named for the statements below
        "in_ids": IDS_IN["postgresql"].replace("%s", "%(ids)s"),
        # reason links travel as text "17,16,15": hashed as is, parsed only when stored
        "id_list": "array_to_string(array_agg(id), ',')",
        # the five latest ids of a group's rows meeting a condition, inside the aggregate
        "latest": "array_to_string((array_agg(id ORDER BY {ts} DESC, id DESC)"
        " FILTER (WHERE {cond}))[1:5], ',')",
        "median": "percentile_cont(0.5) WITHIN GROUP (ORDER BY {expr}) FILTER (WHERE {cond})",
        # a signature of a group's rows meeting a condition ("" when none): a 64-bit hash
        # per row of {ts} (as the interval since the epoch) seeded with its id, combined by
        # XOR. No sort, so the grouping stays a hash aggregate; and no date_part, whose
        # float arithmetic cost a tenth of the velocity statement.
        "signature": "coalesce({mark} || bit_xor(interval_hash_extended("
        "{ts} - timestamptz 'epoch', id)) FILTER (WHERE {cond}), '')",
        "days": "(EXTRACT(EPOCH FROM (solved_at - opened_at)) / 86400.0)",
        "tags": "jsonb_array_elements_text(CASE WHEN jsonb_typeof(t.tags) = 'array'"
        " THEN t.tags ELSE '[]'::jsonb END) AS tag(value)",
        "has_tags": "(jsonb_typeof(tags) = 'array' AND jsonb_array_length(tags) > 0)",
    },
    "sqlite": {
        "in_ids": "IN ({ids})",  # literal integers
        "id_list": "json_group_array(id)",
        # no ORDER BY inside an aggregate in SQLite 3.40: a correlated subquery
        "latest": "(SELECT json_group_array(id) FROM (SELECT x.id FROM accounts_ticket x"
        " WHERE x.account_id = accounts_ticket.account_id AND {cond}"
        " ORDER BY x.{ts} DESC, x.id DESC LIMIT 5))",
        # SQLite has no median: a correlated subquery over the account's own tickets.
        "median": "(SELECT avg(v) FROM (SELECT v, row_number() OVER (ORDER BY v) AS rn,"
        " count(*) OVER () AS n FROM (SELECT {expr} AS v FROM accounts_ticket x"
        " WHERE x.account_id = accounts_ticket.account_id AND {where} AND {cond}))"
        " WHERE rn IN ((n + 1) / 2, (n + 2) / 2))",
        # no XOR nor hash in SQLite: a sum of multiplicative hashes of the id and {ts} in
        # milliseconds (each below 2^32, so the sum cannot overflow)
        "signature": "coalesce({mark} || sum((id * 2654435761"
        " + CAST(julianday({ts}) * 86400000 AS INTEGER)) %% 4294967291)"
        " FILTER (WHERE {cond}), '')",
        "days": "(julianday(solved_at) - julianday(opened_at))",
        "tags": "json_each(t.tags) AS tag",
        "has_tags": "(json_type(tags) = 'array' AND json_array_length(tags) > 0)",
    },
}


def _vendor() -> dict[str, str]:
    return _VENDOR[dialect()]


def _in_ids(ids: list[int], column: str = "account_id") -> str:
    """The condition "``column`` is one of these accounts": when the ids fill most of their
    range (a full recompute's chunk), that range — a comparison costs less a row than a
    probe of a set of 10,000, and ``_fetch`` drops the few accounts in the range that were
    not asked for; otherwise the range and the ids themselves, an array parameter %(ids)s
    (PostgreSQL) or literal integers (SQLite). The range bounds an index scan on
    (account_id, …) to the ids' stretch of the book: with the ids alone the planner read a
    whole window of the date index and filtered it (2,081 accounts of a chunk: 1.66 million
    index pages for 64,000 tickets, 0.41 s of server CPU, where the range took 0.08 s)."""
    low, high = (int(min(ids)), int(max(ids))) if ids else (0, -1)
    bounded = f"{column} BETWEEN {low} AND {high}"
    if _dense(ids):
        return bounded
    if connection.vendor == "postgresql":  # the ids travel as a parameter: no list to build
        return f"{bounded} AND {column} {_vendor()['in_ids']}"
    listed = ", ".join(str(int(i)) for i in ids) or "NULL"
    return f"{bounded} AND {column} {_vendor()['in_ids'].format(ids=listed)}"


def _dense(ids: list[int]) -> bool:
    """At least half of the ids from the lowest to the highest are asked for."""
    return bool(ids) and 2 * len(ids) >= int(max(ids)) - int(min(ids)) + 1


def _when(value: dt.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(value)


def _fetch(sql: str, params: dict[str, object], columns: list[str], ids: list[int]) -> pd.DataFrame:
    """The per-account rows of a statement filtered by ``_in_ids(ids)``, for those ids."""
    # Only the parameters the statement names: Django's SQLite cursor binds every entry of
    # the mapping (an unused list, e.g. the ids PostgreSQL takes as an array, fails there).
    used = {k: v for k, v in params.items() if f"%({k})s" in sql}
    with connection.cursor() as cursor:
        cursor.execute(sql, used)
        rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=["account_id", *columns])
    frame = frame.set_index("account_id")
    if _dense(ids):  # read by range: the accounts between that were not asked for go
        frame = frame[frame.index.isin(ids)]
    return frame


def _id_lists(values: pd.Series) -> pd.Series:
    """Ids as the database lists them — "17,16,15" (PostgreSQL) or "[17,16,15]" (SQLite's
    JSON) — as "17,16,15" ("" when none). Kept as text: a steady-state recompute hashes it
    and parses only the reasons it stores (``measures.ref_links``)."""
    out = [v.strip("[]") if isinstance(v, str) else "" for v in values.tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def _velocity_counted(now: dt.datetime, t: Threshold) -> tuple[str, dict[str, object]]:
    """The condition on accounts_ticket of the tickets velocity counts (non-critical support
    tickets opened by ``now``), and the parameters of the velocity statements."""
    w = t.window_days
    critical = critical_priorities(t)
    params: dict[str, object] = {
        "now": _when(now),
        "cut": _when(now - dt.timedelta(days=w)),
        "start": _when(now - dt.timedelta(days=2 * w)),
        **{f"crit{i}": c for i, c in enumerate(critical)},
    }
    not_critical = (
        "priority NOT IN (" + ", ".join(f"%(crit{i})s" for i in range(len(critical))) + ")"
        if critical
        else "1 = 1"
    )
    return f"kind = 'support' AND {not_critical} AND opened_at <= %(now)s", params


def _velocity_stats(
    ids: list[int], now: dt.datetime, t: Threshold, *, links: bool = True
) -> pd.DataFrame:
    """n1, n0 and a signature of the n1 tickets per account (see
    ``measures.noncritical_velocity``). The signature — a hash over each ticket's id and
    opening time — moves whenever the five latest tickets can have; they are looked up only
    for the reasons a recompute stores (``_velocity_links``).
    In this statement they would need the recent tickets of every account sorted, which
    cost more than the counts: the ordered aggregate forces a sort of every row read, where
    the counts alone are a hash aggregate. ``links=False``: no signature (a reader of the
    values, such as the executive summary, stores no reasons)."""
    counted, params = _velocity_counted(now, t)
    # FILTERs on the window alone: the WHERE clause already keeps only the counted tickets
    signature = (
        _vendor()["signature"].format(mark="%(mark)s", ts="opened_at", cond="opened_at > %(cut)s")
        if links
        else "''"
    )
    sql = f"""
        SELECT account_id,
               count(*) FILTER (WHERE opened_at > %(cut)s),
               count(*) FILTER (WHERE opened_at <= %(cut)s),
               {signature}
        FROM accounts_ticket
        WHERE {_in_ids(ids)} AND {counted} AND opened_at > %(start)s
        GROUP BY account_id
    """
    params = {"ids": id_array(ids), "mark": DEFERRED, **params}
    return _fetch(sql, params, ["v_n1", "v_n0", "v_refs"], ids)


def _velocity_links(ids: list[int], now: dt.datetime, t: Threshold) -> dict[int, str]:
    """The five latest of the tickets velocity counts in (now − W, now], per account, as
    "17,16,15": the links of the velocity reasons a recompute stores (few accounts)."""
    counted, params = _velocity_counted(now, t)
    recent = f"{counted} AND opened_at > %(cut)s"
    latest = _vendor()["latest"].format(ts="opened_at", cond=recent)
    sql = f"""
        SELECT account_id, {latest} FROM accounts_ticket
        WHERE {_in_ids(ids)} AND {recent}
        GROUP BY account_id
    """
    frame = _fetch(sql, {"ids": id_array(ids), **params}, ["refs"], ids)
    return dict(zip(frame.index.tolist(), _id_lists(frame["refs"]).tolist(), strict=True))


def velocity_latest(ids: list[int], now: dt.datetime, t: Threshold) -> dict[int, dt.datetime]:
    """When each account's latest ticket that the velocity measure counts in (now − W, now]
    was opened: the date of a velocity finding (one hash aggregate, no sort)."""
    if not ids:
        return {}
    counted, params = _velocity_counted(now, t)
    sql = f"""
        SELECT account_id, max(opened_at) FROM accounts_ticket
        WHERE {_in_ids(ids)} AND {counted} AND opened_at > %(cut)s
        GROUP BY account_id
    """
    frame = _fetch(sql, {"ids": id_array(ids), **params}, ["latest"], ids)
    # Converted as one column: a Timestamp a row to unbox costs four times as much.
    latest = pd.to_datetime(frame["latest"], utc=True).dt.to_pydatetime()
    return dict(zip(map(int, frame.index.tolist()), latest.tolist(), strict=True))


# The measures whose reason links are deferred (``measures.DEFERRED``): how to look them up.
_LINK_LOOKUPS = {"velocity": _velocity_links}
_DEFERRED_LINKS = {m.code: _LINK_LOOKUPS[m.deferred_links] for m in DECLARED if m.deferred_links}


def deferred_links(
    code: str, account_ids: list[int], *, now: dt.datetime, measure_thresholds: list[Threshold]
) -> dict[int, str]:
    """The reason links of measure ``code`` for these accounts as of ``now``, as the ids
    text a measure row carries ("17,16,15"), for the rows that gave a signature instead."""
    if code not in _DEFERRED_LINKS or not account_ids:
        return {}
    by_code = {t.code: t for t in measure_thresholds}
    t = by_code.get(code) or next(t for t in DEFAULT_THRESHOLDS if t.code == code)
    return _DEFERRED_LINKS[code](sorted(set(account_ids)), now, t)


def _state_stats(ids: list[int], now: dt.datetime, t: Threshold) -> pd.DataFrame:
    """Open urgent support tickets, open defects by priority, and the median resolution
    time of support tickets solved in each window (``t`` = the resolution-time threshold)."""
    w = t.window_days
    v = _vendor()
    params: dict[str, object] = {
        "ids": id_array(ids),
        "now": _when(now),
        "cut": _when(now - dt.timedelta(days=w)),
        "start": _when(now - dt.timedelta(days=2 * w)),
    }
    where = (
        f"opened_at <= %(now)s AND ({_OPEN} OR (solved_at > %(start)s AND solved_at <= %(now)s))"
    )
    urgent = f"kind = 'support' AND priority = 'urgent' AND {_OPEN}"
    defect = f"kind = 'defect' AND {_OPEN}"
    solved = "kind = 'support' AND solved_at > %(start)s AND solved_at <= %(now)s"
    recent, before = f"{solved} AND solved_at > %(cut)s", f"{solved} AND solved_at <= %(cut)s"
    known = "('urgent', 'high', 'normal', 'low')"

    def median(cond: str) -> str:
        return v["median"].format(expr=v["days"], where=where, cond=cond)

    def latest(cond: str, ts: str) -> str:
        # Inside the grouped scan: the open urgent tickets and defects are few, the recently
        # solved ones already sorted for the median; a walk per account would read them all.
        return v["latest"].format(ts=ts, cond=f"opened_at <= %(now)s AND {cond}")

    sql = f"""
        SELECT account_id,
               count(*) FILTER (WHERE {urgent}),
               min(opened_at) FILTER (WHERE {urgent}),
               count(*) FILTER (WHERE {defect} AND priority = 'urgent'),
               count(*) FILTER (WHERE {defect} AND priority = 'high'),
               count(*) FILTER (WHERE {defect} AND priority = 'normal'),
               count(*) FILTER (WHERE {defect} AND priority = 'low'),
               count(*) FILTER (WHERE {defect} AND priority NOT IN {known}),
               count(*) FILTER (WHERE {recent}),
               count(*) FILTER (WHERE {before}),
               {median(recent)},
               {median(before)},
               {latest(urgent, "opened_at")},
               {latest(defect, "opened_at")},
               {latest(recent, "solved_at")}
        FROM accounts_ticket
        WHERE {_in_ids(ids)} AND {where}
        GROUP BY account_id
    """
    columns = [c for c in TICKET_COLUMNS["state"] if not c.endswith("_refs")]
    frame = _fetch(sql, params, [*columns, "u_refs", "d_refs", "r_refs"], ids)
    frame["u_oldest"] = pd.to_datetime(frame["u_oldest"], utc=True)
    for col in ("r_m1", "r_m0"):
        frame[col] = frame[col].astype(float)
    for col in ("u_refs", "d_refs", "r_refs"):
        frame[col] = _id_lists(frame[col])
    return frame[TICKET_COLUMNS["state"]]


def _recurrence_stats(ids: list[int], now: dt.datetime, t: Threshold) -> pd.DataFrame:
    """Per account the (requester group, tag) pair shared by most support tickets opened in
    (now − W, now], its count, and the five latest tagged tickets (``measures.recurrence``)."""
    v = _vendor()
    params: dict[str, object] = {
        "ids": id_array(ids),
        "now": _when(now),
        "cut": _when(now - dt.timedelta(days=t.window_days)),
    }
    group = (
        "CASE WHEN coalesce(t.requester_group, '') = '' THEN 'one team' ELSE t.requester_group END"
    )
    tagged = (
        f"kind = 'support' AND opened_at > %(cut)s AND opened_at <= %(now)s AND {v['has_tags']}"
    )
    links = v["latest"].format(ts="opened_at", cond=tagged)
    sql = f"""
        SELECT best.account_id, best.n, best.grp, best.tag, refs.ids FROM (
            SELECT account_id, grp, tag, n, row_number() OVER (
                PARTITION BY account_id ORDER BY n DESC, grp, tag) AS rn
            FROM (
                SELECT t.account_id, {group} AS grp, tag.value AS tag, count(*) AS n
                FROM accounts_ticket t, {v["tags"]}
                WHERE {_in_ids(ids, "t.account_id")}
                  AND t.kind = 'support' AND t.opened_at > %(cut)s AND t.opened_at <= %(now)s
                GROUP BY t.account_id, {group}, tag.value
            ) counted
        ) best
        LEFT JOIN (
            SELECT account_id, {links} AS ids FROM accounts_ticket
            WHERE {_in_ids(ids)} AND {tagged}
            GROUP BY account_id
        ) refs ON refs.account_id = best.account_id
        WHERE best.rn = 1
    """
    frame = _fetch(sql, params, ["c_n", "c_group", "c_tag", "c_refs"], ids)
    frame["c_refs"] = _id_lists(frame["c_refs"])
    return frame


_AGE_DAYS = {
    "postgresql": "(EXTRACT(EPOCH FROM (%(now)s - opened_at)) / 86400.0)",
    "sqlite": "(julianday(%(now)s) - julianday(opened_at))",
}


def declared_ticket_stats(
    spec: TicketAggregate, ids: list[int], now: dt.datetime, t: Threshold
) -> pd.DataFrame:
    """A measure's own aggregate (``measures.TicketAggregate``) per account, as of ``now``:
    one grouped statement over the tickets ``spec.where`` keeps, opened by ``now``."""
    v = _vendor()
    critical = critical_priorities(t)
    params: dict[str, object] = {
        "ids": id_array(ids),
        "now": _when(now),
        **{f"crit{i}": c for i, c in enumerate(critical)},
    }
    noncritical = (
        "priority NOT IN (" + ", ".join(f"%(crit{i})s" for i in range(len(critical))) + ")"
        if critical
        else "1 = 1"
    )
    where = "opened_at <= %(now)s AND " + spec.where.format(open=_OPEN, noncritical=noncritical)
    age = _AGE_DAYS[dialect()]
    aggregates = {
        "count": "count(*)",
        "median_age_days": v["median"].format(expr=age, where=where, cond="1 = 1"),
        "oldest": "min(opened_at)",
        "latest_ids": v["latest"].format(ts="opened_at", cond=where),
        "oldest_ids": v["latest"].replace("DESC", "ASC").format(ts="opened_at", cond=where),
    }
    selected = ", ".join(aggregates[kind] for _, kind in spec.columns)
    sql = f"""
        SELECT account_id, {selected} FROM accounts_ticket
        WHERE {_in_ids(ids)} AND {where}
        GROUP BY account_id
    """
    frame = _fetch(sql, params, [c for c, _ in spec.columns], ids)
    for column, kind in spec.columns:
        if kind == "median_age_days":
            frame[column] = frame[column].astype(float)
        elif kind == "oldest":
            frame[column] = pd.to_datetime(frame[column], utc=True)
        elif kind in ("latest_ids", "oldest_ids"):
            frame[column] = _id_lists(frame[column])
    return frame


# The shared ticket aggregates, and the measures' own (``Measure.ticket_sql``): aggregate →
# (the measure whose threshold sets its windows and parameters, the query).
_SHARED_QUERIES = {
    "velocity": _velocity_stats,
    "state": _state_stats,
    "recurrence": _recurrence_stats,
}
# The aggregates that sign their reason links for a later lookup (the measure whose windows
# they follow declares ``deferred_links``): a reader of values only skips the signature.
SIGNED_GROUPS = frozenset(
    m.sets_windows_of.removeprefix("tickets.")
    for m in DECLARED
    if m.deferred_links and m.sets_windows_of
)
_TICKET_QUERIES: dict[str, tuple[str, Callable[[list[int], dt.datetime, Threshold], pd.DataFrame]]]
_TICKET_QUERIES = {
    group: (next(m.code for m in DECLARED if m.sets_windows_of == f"tickets.{group}"), query)
    for group, query in _SHARED_QUERIES.items()
}
for _m in DECLARED:
    if _m.ticket_sql is not None:
        _TICKET_QUERIES[_m.code] = (_m.code, partial(declared_ticket_stats, _m.ticket_sql))


def _ticket_queries(
    measure_thresholds: list[Threshold],
) -> list[tuple[str, Callable[[list[int], dt.datetime, Threshold], pd.DataFrame], Threshold]]:
    """(group, query, threshold) of the ticket queries the enabled measures need, each with
    the windows and parameters of its measure's threshold."""
    by_code = {t.code: t for t in measure_thresholds if t.enabled}
    defaults = {t.code: t for t in DEFAULT_THRESHOLDS}
    return [
        (group, query, by_code.get(code, defaults[code]))
        for group, (code, query) in _TICKET_QUERIES.items()
        if any(c in by_code for c in TICKET_GROUPS[group])
    ]


def ticket_stats(
    account_ids: list[int], now: dt.datetime, measure_thresholds: list[Threshold]
) -> pd.DataFrame:
    """One row per account with tickets (index account_id): what the ticket measures read,
    aggregated by the database. Only the queries the enabled measures need run; each uses
    the windows and parameters of its measure's threshold."""
    return _joined(
        [query(account_ids, now, t) for _, query, t in _ticket_queries(measure_thresholds)]
    )


def _joined(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame(index=pd.Index([], name="account_id"))
    return pd.concat(parts, axis=1) if len(parts) > 1 else parts[0]


# --- weekly usage, aggregated per account in SQL ---------------------------------------------

USAGE_READERS = tuple(m.code for m in DECLARED if "usage" in m.reads)
USAGE_COLUMNS = ["u_recent", "u_base", "a_recent", "a_base", "l_week", "l_active", "l_licensed"]


def _no_usage() -> pd.DataFrame:
    return pd.DataFrame(columns=USAGE_COLUMNS, index=pd.Index([], name="account_id"))


def usage_stats(
    account_ids: list[int], now: dt.datetime, measure_thresholds: list[Threshold]
) -> pd.DataFrame:
    """One row per account with usage (index account_id): the mean active users of the weeks
    in (now − recent, now] and in the ``baseline`` weeks before (``measures.usage_drop``), the
    mean key-feature adoption of the same two windows (``measures.adoption_trend``), and
    the latest week within 28 days with licences (``measures.license_utilization``). Weeks
    after ``now`` do not exist yet. A week counts from its Monday (midnight UTC), so "after
    now − 28 days" is "after that date"."""
    by_code = {t.code: t for t in measure_thresholds if t.enabled}
    if not any(c in by_code for c in USAGE_READERS):
        return _no_usage()
    drop = by_code.get("habits.usage_drop") or next(
        t for t in DEFAULT_THRESHOLDS if t.code == "habits.usage_drop"
    )
    recent_days = int(drop.params.get("recent_days", 28))
    base_days = int(drop.params.get("baseline_days", 56))
    day = connection.ops.adapt_datefield_value
    cut = now - dt.timedelta(days=recent_days)
    start = now - dt.timedelta(days=recent_days + base_days)
    licence_cut = now - dt.timedelta(days=28)
    params: dict[str, object] = {
        "ids": id_array(account_ids),
        "today": day(now.date()),
        "cut": day(cut.date()),
        "start": day(start.date()),
        "licence_cut": day(licence_cut.date()),
        "first": day(min(start, licence_cut).date()),
    }
    active = "CAST(active_users AS double precision)"
    sql = f"""
        WITH u AS (
            SELECT account_id, week, active_users, licensed_users, adoption
            FROM accounts_usagesnapshot
            WHERE {_in_ids(account_ids)} AND week <= %(today)s AND week > %(first)s
        ),
        windows AS (
            SELECT account_id,
                   avg({active}) FILTER (WHERE week > %(cut)s) AS recent,
                   avg({active}) FILTER (WHERE week > %(start)s AND week <= %(cut)s) AS base,
                   avg(adoption) FILTER (WHERE week > %(cut)s) AS a_recent,
                   avg(adoption) FILTER (WHERE week > %(start)s AND week <= %(cut)s) AS a_base
            FROM u GROUP BY account_id
        ),
        latest AS (
            SELECT account_id, week, active_users, licensed_users FROM (
                SELECT account_id, week, active_users, licensed_users, row_number() OVER (
                    PARTITION BY account_id ORDER BY week DESC) AS rn
                FROM u WHERE licensed_users > 0 AND week > %(licence_cut)s
            ) ranked WHERE rn = 1
        )
        SELECT windows.account_id, windows.recent, windows.base, windows.a_recent,
               windows.a_base, latest.week, latest.active_users, latest.licensed_users
        FROM windows LEFT JOIN latest ON latest.account_id = windows.account_id
    """
    frame = _fetch(sql, params, USAGE_COLUMNS, account_ids)
    for col in ("u_recent", "u_base", "a_recent", "a_base"):
        frame[col] = frame[col].astype(float)
    frame["l_week"] = [
        dt.date.fromisoformat(w) if isinstance(w, str) else w for w in frame["l_week"]
    ]
    return frame


def stored_areas(account_ids: list[int]) -> pd.DataFrame:
    """The AreaScores of these accounts as a recompute compares them, in one plain query
    (no model instances): a frame of account_id, area, pk, color, digest."""
    ids = list(account_ids)
    if not ids:
        return pd.DataFrame(columns=["account_id", "area", "pk", "color", "digest"])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, area, id, color, digest FROM scorecards_areascore"
            f" WHERE {_in_ids(ids)}",
            _id_params(ids),
        )
        scores = pd.DataFrame.from_records(
            cursor.fetchall(), columns=["account_id", "area", "pk", "color", "digest"]
        )
    if _dense(ids):  # read by range (``_in_ids``): only the accounts asked for
        scores = scores[scores["account_id"].isin(set(ids))]
    return scores


def stored_cards(account_ids: list[int]) -> dict[int, tuple]:
    """Per account, its Scorecard as a recompute compares it
    (``services.recomputation.CARD_STATE``)."""
    ids = list(account_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT account_id, color, score, weighted_score, reason, worst_area, no_data,"
            f" areas_digest FROM scorecards_scorecard WHERE {_in_ids(ids)}",
            _id_params(ids),
        )
        # SQLite answers a boolean as 0/1: as a bool, the state compares equal.
        cards = {row[0]: (*row[1:6], bool(row[6]), *row[7:]) for row in cursor.fetchall()}
    if _dense(ids):  # read by range (``_in_ids``): only the accounts asked for
        asked = set(ids)
        cards = {a: card for a, card in cards.items() if a in asked}
    return cards


def _of_accounts(queryset: QuerySet, ids: list[int]) -> list:
    """The rows of ``queryset`` of these accounts. Dense ids go as a range and are kept in
    Python: the ORM prepares each value of an ``__in`` list (~10 µs an id, 0.1 s for a
    full book's two lists)."""
    if not _dense(ids):
        return list(queryset.filter(account_id__in=ids))
    asked = set(ids)
    rows = queryset.filter(account_id__gte=min(ids), account_id__lte=max(ids))
    return [row for row in rows if row.account_id in asked]


def cta_floors(account_ids: list[int]) -> dict[tuple[int, str], CtaFloor]:
    """The CTA floors (``services.cta_pressure_set``) of these accounts, by (account, area)."""
    return {
        (p.account_id, p.area): CtaFloor(p.color, p.reasons)
        for p in _of_accounts(CtaPressure.objects.all(), account_ids)
    }


def live_overrides(account_ids: list[int], now: dt.datetime) -> dict[tuple[int, str], OverrideInfo]:
    """The overrides in force at ``now`` of these accounts, by (account, area)."""
    live = Override.objects.filter(ended_at__isnull=True, expires_at__gt=now).select_related(
        "set_by"
    )
    return {
        (o.account_id, o.area): OverrideInfo(
            o.id,
            o.color,
            o.reason,
            o.set_by.username if o.set_by else "someone",
            f"{o.expires_at:%Y-%m-%d %H:%M}",
        )
        for o in _of_accounts(live, account_ids)
    }


def _id_params(ids: list[int]) -> dict[str, object]:
    # %(ids)s appears only in the PostgreSQL fragment; SQLite takes literal integers.
    return {"ids": id_array(ids)} if connection.vendor == "postgresql" else {}


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


def measure_verdicts(
    codes: Iterable[str],
    account_ids: Iterable[int],
    now: dt.datetime,
    configured: list[Threshold] | None = None,
) -> pd.DataFrame:
    """What the measures ``codes`` say about these accounts as of ``now``, with their
    configured thresholds: one row per account and enabled measure (``run_measures``'
    columns). The one definition of a signal for every reader that is not the scorecard
    itself — rules, the executive summary, escalation suggestions — so that none counts
    it its own way. A disabled measure says nothing, and neither does a row that is no data
    (a gap, or a value too thin to judge: "2 tickets vs 0"): its value is blank, so no
    reader flags it; its sentence still says why. ``configured``: the thresholds read
    already (``thresholds()``), for a caller that asks more than once."""
    wanted = set(codes)
    configured = [t for t in (configured or thresholds()) if t.code in wanted]
    ids = sorted(set(account_ids))
    if not ids or not any(t.enabled for t in configured):
        return pd.DataFrame(columns=["account_id", *MEASURE_COLUMNS])
    rows = run_measures(load_frames(ids, now, configured, links=False), configured)
    rows["value"] = rows["value"].where(~rows["no_data"].astype(bool))
    return rows


def measure_threshold(code: str) -> Threshold:
    """Measure ``code``'s configured threshold (its default when not configured)."""
    return next(t for t in thresholds() if t.code == code)


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


def active_account_ids_between(first: int, last: int) -> list[int]:
    """The live accounts with ids from ``first`` to ``last`` (a chunk of a recompute run)."""
    return list(
        Account.objects.exclude(lifecycle_stage=LifecycleStage.CHURNED)
        .filter(pk__gte=first, pk__lte=last)
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
    """Trend per (account, area/'overall') from one query over the last 30 days of changes."""
    rows = ColorChange.objects.filter(
        account_id__in=list(account_ids), at__gt=now - dt.timedelta(days=30)
    ).order_by("at", "pk")
    return trends_from(rows.values_list("account_id", "area", "at", "from_color"), current, now)


def trends_from(
    changes: Iterable[tuple[int, str, dt.datetime, str]],
    current: dict[tuple[int, str], str],
    now: dt.datetime,
) -> dict[tuple[int, str], Trend]:
    """Trends from (account_id, area, at, from_color) rows, oldest first.

    The colour at time T is the ``from_color`` of the first change after T, or the current
    colour when nothing changed since T.
    """
    by_key: dict[tuple[int, str], list[tuple[dt.datetime, str]]] = {}
    for account_id, area, at, from_color in changes:
        by_key.setdefault((account_id, area), []).append((at, from_color))

    def color_at(key: tuple[int, str], when: dt.datetime) -> str | None:
        for at, from_color in by_key.get(key, []):
            if at > when:
                return from_color or None
        return current[key]

    return {
        key: Trend(
            _direction(color_at(key, now - dt.timedelta(days=7)), color),
            _direction(color_at(key, now - dt.timedelta(days=30)), color),
        )
        for key, color in current.items()
    }


# --- shaped for pages -----------------------------------------------------------------------


@dataclass
class AreaRow:
    code: str
    name: str
    owner: str
    color: str
    score: int
    computed_color: str
    reasons: list[dict]
    trend: Trend
    override: Override | None
    no_data: bool = False  # ``AreaScore.no_data``: shown grey, "No data"


@dataclass
class TimelineRow:
    key: str
    label: str
    segments: list[dict]  # {"x": %, "width": %, "color": …, "title": …}


@dataclass
class AccountScorecard:
    overall: Scorecard | None
    overall_trend: Trend | None
    areas: list[AreaRow]
    timeline: list[TimelineRow]
    timeline_days: int


def account_scorecard(account: Account, *, now: dt.datetime, days: int = 90) -> AccountScorecard:
    """Everything the account page shows about the scorecard, in a fixed number of queries."""
    scores = {s.area: s for s in AreaScore.objects.filter(account=account)}
    overall = Scorecard.objects.filter(account=account).first()
    area_rows = {a.code: a for a in Area.objects.select_related("owning_team")}
    live = {
        o.area: o
        for o in Override.objects.filter(
            account=account, ended_at__isnull=True, expires_at__gt=now
        ).select_related("set_by")
    }
    current = {(account.pk, code): s.color for code, s in scores.items()}
    if overall:
        current[(account.pk, ColorChange.OVERALL)] = overall.color
    changes = list(
        ColorChange.objects.filter(account=account, at__gt=now - dt.timedelta(days=days)).order_by(
            "at", "pk"
        )
    )
    trend = trends_from(((c.account_id, c.area, c.at, c.from_color) for c in changes), current, now)
    areas = []
    for code, label in AreaCode.choices:
        s = scores.get(code)
        if s is None:
            continue
        info = area_rows.get(code)
        owner = (
            info.owning_team.name
            if info and info.owning_team
            else info.get_owning_function_display()
            if info
            else ""
        )
        areas.append(
            AreaRow(
                code,
                info.name if info else label,
                owner,
                s.color,
                s.score,
                s.computed_color,
                s.reasons,
                trend[(account.pk, code)],
                live.get(code),
                s.no_data,
            )
        )
    return AccountScorecard(
        overall=overall,
        overall_trend=trend.get((account.pk, ColorChange.OVERALL)),
        areas=areas,
        timeline=_timeline(account.pk, changes, current, now, days),
        timeline_days=days,
    )


HISTORY_WIDTH = 96  # percent of the bar for the past; the rest shows the colour now


def _timeline(
    account_id: int,
    history_rows: list[ColorChange],
    current: dict[tuple[int, str], str],
    now: dt.datetime,
    days: int,
) -> list[TimelineRow]:
    start = now - dt.timedelta(days=days)
    span = (now - start).total_seconds()
    changes: dict[str, list[ColorChange]] = {}
    for c in history_rows:
        changes.setdefault(c.area, []).append(c)
    rows = []
    keys = [(ColorChange.OVERALL, "Overall"), *AreaCode.choices]
    for key, label in keys:
        if (account_id, key) not in current:
            continue
        points = changes.get(key, [])
        color = (points[0].from_color if points else current[(account_id, key)]) or None
        t = start
        segments = []
        why = ""  # a colour a backfill brought says so (history, not news)
        for c in [*points, None]:
            end = c.at if c else now
            if color and end > t:
                segments.append(
                    {
                        "x": round(HISTORY_WIDTH * (t - start).total_seconds() / span, 3),
                        "width": round(HISTORY_WIDTH * (end - t).total_seconds() / span, 3),
                        "color": color,
                        "title": f"{label}: {color} from {t:%b %d} to {end:%b %d}{why}",
                    }
                )
            if c:
                color, t = c.to_color, c.at
                why = " (from a backfill)" if c.cause == events.BACKFILL else ""
        # The last cell is "now", so a colour that changed today is visible too.
        now_color = current[(account_id, key)]
        segments.append(
            {
                "x": HISTORY_WIDTH + 1,
                "width": 100 - HISTORY_WIDTH - 1,
                "color": now_color,
                "title": f"{label}: {now_color} now",
            }
        )
        rows.append(TimelineRow(key, label, segments))
    return rows


@dataclass
class ReviewRow:
    account: Account
    overall: Scorecard | None
    overall_trend: Trend | None
    areas: list[tuple[str, AreaScore | None, Trend | None]]


def review_rows(accounts: QuerySet[Account], *, now: dt.datetime) -> list[ReviewRow]:
    """The 1:1 review table: every account, greens included, with colours and trends."""
    accounts = list(accounts.select_related("scorecard", "owner").prefetch_related("area_scores"))
    current: dict[tuple[int, str], str] = {}
    for a in accounts:
        for s in a.area_scores.all():
            current[(a.pk, s.area)] = s.color
        card = getattr(a, "scorecard", None)
        if card:
            current[(a.pk, ColorChange.OVERALL)] = card.color
    trend = trends([a.pk for a in accounts], current, now)
    rows = []
    for a in accounts:
        by_area = {s.area: s for s in a.area_scores.all()}
        rows.append(
            ReviewRow(
                account=a,
                overall=getattr(a, "scorecard", None),
                overall_trend=trend.get((a.pk, ColorChange.OVERALL)),
                areas=[
                    (code, by_area.get(code), trend.get((a.pk, code))) for code in AreaCode.values
                ],
            )
        )
    return rows


def leadership_review(threshold: Decimal) -> QuerySet[Scorecard]:
    """The Monday leadership list: red scorecards of live (not churned) accounts at or above
    the ARR threshold, most ARR first, then the nearest renewal. The scorecard page and the
    escalation agenda of a meeting with ``red_scorecards`` both read this one list."""
    return (
        Scorecard.objects.filter(color="red", account__arr__gte=threshold)
        .exclude(account__lifecycle_stage=LifecycleStage.CHURNED)
        .select_related("account__owner", "account__team")
        .order_by("-account__arr", F("account__renewal_date").asc(nulls_last=True))
    )


def decorate_with_trends(accounts: list[Account], *, now: dt.datetime) -> None:
    """Attach ``scorecard_trend`` (overall, vs 7 and 30 days) to each account: one query."""
    current = {
        (a.pk, ColorChange.OVERALL): a.scorecard.color
        for a in accounts
        if getattr(a, "scorecard", None) is not None
    }
    found = trends([a.pk for a in accounts], current, now) if current else {}
    for a in accounts:
        a.scorecard_trend = found.get((a.pk, ColorChange.OVERALL))
