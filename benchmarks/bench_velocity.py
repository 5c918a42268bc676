"""Non-critical ticket velocity for a big book (issue 7): 10,000 accounts over 2,000,000
tickets, the measure (its per-account counts loaded the way a recompute loads them, then
the formula in pandas) against the equivalent PostgreSQL window query in the same run; the
two must agree.

Sizes: BENCH_VELOCITY_ACCOUNTS (10000), BENCH_VELOCITY_TICKETS (2000000). PostgreSQL only.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics

from _common import emit, figure, setup_django, skip, timed

ACCOUNTS = int(os.environ.get("BENCH_VELOCITY_ACCOUNTS", "10000"))
TICKETS = int(os.environ.get("BENCH_VELOCITY_TICKETS", "2000000"))
# Turns of each (the measure, then the query): a run is a tenth of a second, so three
# turns swung the ratio by 0.2 with whatever else the machine did in those seconds.
RUNS = int(os.environ.get("BENCH_VELOCITY_RUNS", "15"))


def main() -> None:
    vendor = setup_django()
    if vendor != "postgresql":
        skip(
            f"velocity_{ACCOUNTS}_accounts",
            "PostgreSQL only: the baseline is a PostgreSQL count(*) FILTER window query; "
            "set DATABASE_URL to a scratch PostgreSQL database",
        )
        emit([])
        return
    import pandas as pd
    from django.db import connection

    from csrisk import clock
    from scorecards import measures, selectors

    now = clock.now()
    from accounts.models import Account

    Account.objects.bulk_create(
        [Account(name=f"Bench {i}", arr=50000) for i in range(ACCOUNTS)], batch_size=5000
    )
    ids = list(Account.objects.order_by("pk").values_list("pk", flat=True))
    low, high = ids[0], ids[-1]
    with connection.cursor() as cursor:
        # ~32 months of tickets, generated inside PostgreSQL (not what is timed).
        cursor.execute(
            """
            INSERT INTO accounts_ticket (account_id, source, external_id, kind, subject,
                priority, status, tags, requester_group, opened_at, solved_at)
            SELECT %s + (g %% %s), 'bench', NULL, 'support', '',
                   (ARRAY['low','normal','normal','high','urgent'])[1 + (g %% 5)],
                   'solved', '[]'::jsonb, '', %s - (g %% 960) * interval '1 day'
                       - (g %% 86400) * interval '1 second', NULL
            FROM generate_series(1, %s) g
            """,
            [low, high - low + 1, now, TICKETS],
        )
        cursor.execute("ANALYZE accounts_ticket")
    threshold = next(
        t for t in measures.DEFAULT_THRESHOLDS if t.code == "support.noncritical_velocity"
    )
    cut, start = now - dt.timedelta(days=90), now - dt.timedelta(days=180)

    def pandas_path() -> pd.Series:
        # What a recompute runs for this measure: the loader (the velocity query per account,
        # plus the other fact tables, empty here) and the measure over its per-account rows.
        frames = selectors.load_frames(ids, now, [threshold])
        rows = measures.MEASURES["support.noncritical_velocity"](frames, threshold)
        return rows["value"].dropna()

    def sql_path() -> dict[int, float]:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT account_id,
                       count(*) FILTER (WHERE opened_at > %s AND opened_at <= %s),
                       count(*) FILTER (WHERE opened_at > %s AND opened_at <= %s)
                FROM accounts_ticket
                WHERE kind = 'support' AND priority <> 'urgent' AND opened_at > %s
                GROUP BY account_id
                """,
                [cut, now, start, cut, start],
            )
            return {a: (n1 - n0) / max(n0, 8.0) for a, n1, n0 in cursor.fetchall()}

    pandas_times, sql_times = [], []
    for _ in range(RUNS):
        seconds, values = timed(pandas_path)
        pandas_times.append(seconds)
        seconds, oracle = timed(sql_path)
        sql_times.append(seconds)
    agree = set(map(int, values.index)) == set(oracle) and all(
        abs(values[a] - v) < 1e-9 for a, v in oracle.items()
    )
    value, baseline = statistics.median(pandas_times), statistics.median(sql_times)
    emit(
        [
            figure(
                "velocity_10000_accounts",
                value,
                "s",
                f"PostgreSQL window query (count FILTER per account) over the same "
                f"{TICKETS:,} tickets; results agree: {agree}",
                baseline,
                "ratio <= 1.5",
                agree and value / baseline <= 1.5,
                accounts=ACCOUNTS,
                tickets=TICKETS,
                agree=agree,
            )
        ]
    )


if __name__ == "__main__":
    main()
