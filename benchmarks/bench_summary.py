"""The executive summary of a 10,000-account book: server time of one page render.

The demo book (10,000 accounts, 32 months of facts), scored as it stood 60 and 30 days
ago and today (so the colour history has a past), with demo CTAs, escalations and
sponsors. The VP's ``GET /summary/`` is timed in-process (Django test client: routing,
middleware, every query, the template; no network), median and p95 of ``RUNS`` renders
after one warm-up, in turns with the baseline.

Baseline: the summary's numbers computed by raw SQL over the same tables, every row
fetched (``baseline_statements``: ARR at risk by colour now, 30 and 90 days ago by
segment, team, quarter and area, the trend, escalations, sponsor coverage, blind-spot and
action candidates, the top risk decile), same run, same connection. Goal: ratio of the
medians <= ``RATIO_GOAL``. Also reported: the p95, SQL queries per render and ``GET
/healthz`` through the same client. Runs on PostgreSQL and on SQLite.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time
from typing import Any

from _common import emit, figure, restore_configuration, setup_django

ACCOUNTS = int(os.environ.get("BENCH_SUMMARY_ACCOUNTS", 10_000))
RUNS = int(os.environ.get("BENCH_SUMMARY_RUNS", 15))
# Set from the code of 2026-12-05 on PostgreSQL: see docs/performance.md.
RATIO_GOAL = 4.0


# --- the baseline: the summary's numbers as raw SQL -------------------------------------------
#
# What the page shows, computed by the database alone over the same tables, every row
# fetched: ARR red and yellow now, 30 and 90 days ago (the colour then: the ``from`` colour of
# the first change after it, else today's) by segment, team, renewal quarter and in all, with
# the expected loss of the latest risk predictions; the same by area; the 13-week trend; open
# escalations by level; sponsor coverage; the blind-spot candidates (green accounts with a
# +25% rise in non-urgent tickets, a departure or title change, or competitor activity in
# the last 90 days); the action candidates (competitor evaluations, decision makers gone,
# silent sponsors) ranked by stake × severity × closeness; the green accounts in the top
# risk decile. Portable SQL (PostgreSQL and SQLite) but for the few expressions in DIALECT.

DIALECT = {
    "postgresql": {
        "float": "{}::float8",
        "quarter": "to_char({}, 'YYYY\"-Q\"Q')",
        "edm": "roles @> '[\"edm\"]'",
        "days": "({} - %(today)s::date)",
        "greatest": "greatest",
    },
    "sqlite": {
        "float": "CAST({} AS REAL)",
        "quarter": (
            "strftime('%%Y', {0}) || '-Q' || ((CAST(strftime('%%m', {0}) AS INTEGER) + 2) / 3)"
        ),
        "edm": "EXISTS (SELECT 1 FROM json_each(roles) WHERE value = 'edm')",
        "days": "CAST(julianday({}) - julianday(%(today)s) AS INTEGER)",
        "greatest": "max",
    },
}

# Per group: total ARR, red and yellow ARR now (c0), 30 and 90 days ago, accounts at risk.
SUMS = ", ".join(
    [
        "sum(arr)",
        *(
            f"sum(CASE WHEN {c} = '{colour}' THEN arr ELSE 0 END)"
            for c in ("c0", "c30", "c90")
            for colour in ("red", "yellow")
        ),
        "count(CASE WHEN c0 IN ('red', 'yellow') THEN 1 END)",
    ]
)


def first_change(name: str, since: str, partition: str, where: str) -> str:
    """The first colour change after ``since`` of each ``partition`` (its ``from`` colour)."""
    return f"""{name} AS (
  SELECT {partition}, from_color FROM (
    SELECT {partition}, from_color,
      row_number() OVER (PARTITION BY {partition} ORDER BY at, id) AS k
    FROM scorecards_colorchange WHERE {where} AND at > %({since})s) x WHERE k = 1)"""


def baseline_statements(vendor: str) -> list[str]:
    from insights.summary import TREND_WEEKS

    d = DIALECT["postgresql" if vendor == "postgresql" else "sqlite"]
    arr = d["float"].format("a.arr")
    live = "a.lifecycle_stage <> 'churned'"
    green = "coalesce(s.color, '') IN ('', 'green')"
    book = f"""WITH
{first_change("o30", "ago30", "account_id", "area = 'overall'")},
{first_change("o90", "ago90", "account_id", "area = 'overall'")},
b AS (
  SELECT a.id, {arr} AS arr, a.segment, coalesce(t.name, 'No team') AS team,
    CASE WHEN a.renewal_date IS NULL THEN 'No renewal date'
         ELSE {d["quarter"].format("a.renewal_date")} END AS quarter,
    coalesce(s.color, '') AS c0, coalesce(o30.from_color, s.color, '') AS c30,
    coalesce(o90.from_color, s.color, '') AS c90,
    coalesce({d["float"].format("p.expected_loss")}, 0) AS loss
  FROM accounts_account a
  LEFT JOIN csrisk_team t ON t.id = a.team_id
  LEFT JOIN scorecards_scorecard s ON s.account_id = a.id
  LEFT JOIN o30 ON o30.account_id = a.id LEFT JOIN o90 ON o90.account_id = a.id
  LEFT JOIN insights_riskprediction p ON p.account_id = a.id AND p.latest
  WHERE {live})
SELECT 'all', '', {SUMS}, sum(loss) FROM b
UNION ALL SELECT 'segment', segment, {SUMS}, sum(loss) FROM b GROUP BY segment
UNION ALL SELECT 'team', team, {SUMS}, sum(loss) FROM b GROUP BY team
UNION ALL SELECT 'quarter', quarter, {SUMS}, sum(loss) FROM b GROUP BY quarter"""
    areas = f"""WITH
{first_change("a30", "ago30", "account_id, area", "area <> 'overall'")},
{first_change("a90", "ago90", "account_id, area", "area <> 'overall'")},
k AS (
  SELECT account_id, area FROM scorecards_areascore WHERE color IN ('red', 'yellow')
  UNION SELECT account_id, area FROM scorecards_colorchange
        WHERE area <> 'overall' AND at > %(ago90)s),
z AS (
  SELECT k.area, {arr} AS arr, coalesce(s.color, '') AS c0,
    coalesce(a30.from_color, s.color, '') AS c30, coalesce(a90.from_color, s.color, '') AS c90
  FROM k JOIN accounts_account a ON a.id = k.account_id
  LEFT JOIN scorecards_areascore s ON s.account_id = k.account_id AND s.area = k.area
  LEFT JOIN a30 ON a30.account_id = k.account_id AND a30.area = k.area
  LEFT JOIN a90 ON a90.account_id = k.account_id AND a90.area = k.area
  WHERE {live})
SELECT area, {SUMS} FROM z GROUP BY area"""
    # The trend: today's red and yellow ARR minus the moves after each week's date.
    weeks = ", ".join(
        f"sum(CASE WHEN m.at > %(week{w})s THEN {m} ELSE 0 END)"
        for w in range(TREND_WEEKS + 1)
        for m in ("red", "yellow")
    )
    trend = f"""WITH m AS (
  SELECT c.at,
    {arr} * ((CASE WHEN c.to_color = 'red' THEN 1 ELSE 0 END)
             - (CASE WHEN c.from_color = 'red' THEN 1 ELSE 0 END)) AS red,
    {arr} * ((CASE WHEN c.to_color = 'yellow' THEN 1 ELSE 0 END)
             - (CASE WHEN c.from_color = 'yellow' THEN 1 ELSE 0 END)) AS yellow
  FROM scorecards_colorchange c JOIN accounts_account a ON a.id = c.account_id
  WHERE c.area = 'overall' AND c.at > %(since)s AND {live})
SELECT {weeks}, (SELECT min(at) FROM scorecards_colorchange) FROM m"""
    escalations = f"""SELECT e.level, count(*), sum({arr}) FROM escalation_escalation e
  JOIN accounts_account a ON a.id = e.account_id WHERE e.status = 'open' GROUP BY e.level"""
    coverage = f"""WITH pr AS (
  SELECT enterprise_min_arr, strategic_min_arr FROM sponsors_program
  WHERE starts_on <= %(today)s AND ends_on >= %(today)s ORDER BY starts_on DESC LIMIT 1),
e AS (
  SELECT a.id, {arr} AS arr FROM accounts_account a, pr
  WHERE {live} AND ((a.tier = 'enterprise' AND a.arr >= pr.enterprise_min_arr)
                    OR (a.tier = 'strategic' AND a.arr >= pr.strategic_min_arr)))
SELECT count(*), count(sp.account_id), sum(CASE WHEN sp.account_id IS NULL THEN e.arr END)
FROM e LEFT JOIN (SELECT DISTINCT account_id FROM sponsors_sponsorship
                  WHERE ended_on IS NULL) sp ON sp.account_id = e.id"""
    blind = f"""WITH g AS (
  SELECT a.id FROM accounts_account a LEFT JOIN scorecards_scorecard s ON s.account_id = a.id
  WHERE {live} AND {green}),
v AS (
  SELECT account_id, 'velocity' AS signal, max(opened_at) AS at FROM accounts_ticket
  WHERE kind = 'support' AND priority <> 'urgent' AND opened_at > %(d180)s
    AND opened_at <= %(now)s
  GROUP BY account_id
  HAVING count(CASE WHEN opened_at > %(d90)s THEN 1 END)
         >= 1.25 * count(CASE WHEN opened_at <= %(d90)s THEN 1 END)),
pc AS (
  SELECT account_id, 'people', max(occurred_at) FROM accounts_peoplechange
  WHERE change IN ('left', 'title_changed') AND occurred_at >= %(d181)s
    AND occurred_at <= %(now)s GROUP BY account_id),
ce AS (
  SELECT account_id, 'competitor', max(occurred_at) FROM accounts_competitorevent
  WHERE occurred_at > %(d90)s AND occurred_at <= %(now)s GROUP BY account_id)
SELECT f.*, a.name, a.arr, a.renewal_date FROM (
  SELECT * FROM v UNION ALL SELECT * FROM pc UNION ALL SELECT * FROM ce) f
JOIN g ON g.id = f.account_id JOIN accounts_account a ON a.id = f.account_id
ORDER BY a.arr DESC, a.name"""
    actions = f"""WITH f AS (
  SELECT account_id, 0.9 AS severity, max(occurred_at) AS at FROM accounts_competitorevent
  WHERE activity = 'evaluation' AND occurred_at > %(d90)s AND occurred_at <= %(now)s
  GROUP BY account_id
  UNION ALL
  SELECT account_id, 1.0, max(left_on) FROM accounts_contact
  WHERE NOT at_company AND left_on >= %(day180)s AND {d["edm"]} GROUP BY account_id
  UNION ALL
  SELECT sp.account_id, 0.6, max(ci.logged_at) FROM sponsors_sponsorship sp
  LEFT JOIN sponsors_checkin ci ON ci.sponsorship_id = sp.id AND ci.logged_at IS NOT NULL
  WHERE sp.ended_on IS NULL AND sp.started_on <= %(day90)s
  GROUP BY sp.id, sp.account_id
  HAVING max(ci.logged_at) IS NULL OR max(ci.logged_at) < %(d90)s)
SELECT f.account_id, a.name, a.arr, a.renewal_date, f.at,
  coalesce({d["float"].format("p.expected_loss")}, {arr}) * f.severity
    * CASE WHEN a.renewal_date IS NULL THEN 0.2
      ELSE 1.0 / (1 + {d["greatest"]}(0, {d["days"].format("a.renewal_date")}) / 90.0) END
    AS priority
FROM f JOIN accounts_account a ON a.id = f.account_id
LEFT JOIN insights_riskprediction p ON p.account_id = a.id AND p.latest
WHERE {live} ORDER BY priority DESC, a.name LIMIT 30"""
    risk = f"""WITH r AS (
  SELECT p.account_id, p.probability, p.reasons,
    row_number() OVER (ORDER BY p.probability DESC) AS k, count(*) OVER () AS n
  FROM insights_riskprediction p JOIN accounts_account a ON a.id = p.account_id
  WHERE p.latest AND {live})
SELECT r.account_id, r.probability, r.reasons FROM r
LEFT JOIN scorecards_scorecard s ON s.account_id = r.account_id
WHERE r.k <= (r.n + 9) / 10 AND {green}"""
    return [book, areas, trend, escalations, coverage, blind, actions, risk]


def baseline_params(now: dt.datetime) -> dict[str, Any]:
    from django.db import connection

    from insights.summary import TREND_WEEKS

    at, on = connection.ops.adapt_datetimefield_value, connection.ops.adapt_datefield_value
    params: dict[str, Any] = {
        "now": at(now),
        "today": on(now.date()),
        "since": at(now - dt.timedelta(days=TREND_WEEKS * 7)),
        "day90": on((now - dt.timedelta(days=90)).date()),
        "day180": on((now - dt.timedelta(days=180)).date()),
    }
    for days in (30, 90, 180, 181):
        params[f"d{days}"] = at(now - dt.timedelta(days=days))
    params["ago30"], params["ago90"] = params["d30"], params["d90"]
    for w in range(TREND_WEEKS + 1):
        params[f"week{w}"] = at(now - dt.timedelta(days=7 * (TREND_WEEKS - w)))
    return params


def baseline(statements: list[str], params: dict[str, Any]) -> int:
    """Run every baseline statement and fetch all its rows; the number of rows."""
    from django.db import connection

    rows = 0
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
            rows += len(cursor.fetchall())
    return rows


def timed_ms(fn: Any) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def build_book(accounts: int, vendor: str) -> None:
    """The bench's book, built by this tree's demo builders: ``accounts`` accounts with 32
    months of history, scored 60 and 30 days ago and now, with CTAs, escalations and
    sponsors (``summary_ab.py`` builds its books with this too)."""
    from django.db import connection

    from accounts.demo import build_demo_book
    from csrisk import clock
    from csrisk.notifications import quiet
    from ctas.demo import build_demo_ctas
    from escalation.demo import build_demo_escalations
    from scorecards.services import recompute
    from sponsors.demo import build_demo_sponsors

    restore_configuration()
    with quiet():
        build_demo_book(accounts=accounts, months=32, seed=4)
        now = clock.now()
        for days in (60, 30):
            with clock.frozen(now - dt.timedelta(days=days)):
                recompute()
        recompute()
        build_demo_ctas(seed=4)
        build_demo_escalations(full=False)
        build_demo_sponsors(seed=4, full=False)
    # A steady-state database: statistics gathered and the visibility map set, as
    # autovacuum leaves it after a bulk load (index-only scans depend on it).
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vendor == "postgresql" else "ANALYZE")


def main() -> None:
    vendor = setup_django()

    from django.db import connection
    from django.test import Client

    from csrisk import clock
    from csrisk.models import User

    build_book(ACCOUNTS, vendor)
    vp = User.objects.get(username="vp")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(vp)
    statements = baseline_statements(vendor)

    def render() -> None:
        response = client.get("/summary/")
        assert response.status_code == 200, response.status_code

    def health() -> None:
        assert client.get("/healthz").status_code == 200

    with clock.frozen(clock.now()):  # the page and the baseline ask about the same moment
        params = baseline_params(clock.now())
        render()  # warm-up
        rows = baseline(statements, params)
        executed: list[str] = []

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            executed.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            render()
        summary, raw, healthz = [], [], []
        for _ in range(RUNS):  # in turns: both see the same load
            summary.append(timed_ms(render))
            raw.append(timed_ms(lambda: baseline(statements, params)))
            healthz.append(timed_ms(health))
    median, base = statistics.median(summary), statistics.median(raw)
    emit(
        [
            figure(
                f"summary_render_{ACCOUNTS}",
                median,
                "ms",
                "the summary's numbers as raw SQL over the same tables (median)",
                base,
                f"ratio <= {RATIO_GOAL}",
                median / base <= RATIO_GOAL,
                database=vendor,
                accounts=ACCOUNTS,
                runs=RUNS,
                p95_ms=round(p95(summary), 1),
                queries=len(executed),
                baseline_statements=len(statements),
                baseline_rows=rows,
                baseline_p95_ms=round(p95(raw), 1),
                healthz_ms=round(statistics.median(healthz), 3),
            )
        ]
    )


if __name__ == "__main__":
    main()
