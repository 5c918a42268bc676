"""The executive summary of a 10,000-account book: server time of one page render.

The demo book (10,000 accounts, 32 months of facts), scored as it stood 60 and 30 days
ago and today (so the colour history has a past), with demo CTAs, escalations and
sponsors. The VP's ``GET /summary/`` is timed in-process (Django test client: routing,
middleware, every query, the template; no network), median and p95 of ``RUNS`` renders
after one warm-up. Baseline: ``GET /healthz`` through the same client, same run.
Goal: median ≤ 300 ms. Also reported: SQL queries per render. PostgreSQL only.
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


def timings(client, path: str) -> list[float]:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return samples


def main() -> None:
    vendor = setup_django()
    if vendor != "postgresql":
        print("bench_summary: PostgreSQL only (the goal is stated for PostgreSQL); "
              "set DATABASE_URL to a scratch PostgreSQL database")  # fmt: skip
        emit([])
        return

    from django.db import connection
    from django.test import Client

    from accounts.demo import build_demo_book
    from csrisk import clock
    from csrisk.models import User
    from csrisk.notifications import quiet
    from ctas.demo import build_demo_ctas
    from escalation.demo import build_demo_escalations
    from scorecards.services import recompute
    from sponsors.demo import build_demo_sponsors

    restore_configuration()
    with quiet():
        build_demo_book(accounts=ACCOUNTS, months=32, seed=4)
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
        cursor.execute("VACUUM ANALYZE")
    vp = User.objects.get(username="vp")
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(vp)
    client.get("/summary/")  # warm-up
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        executed.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        assert client.get("/summary/").status_code == 200
    summary = timings(client, "/summary/")
    health = timings(client, "/healthz")
    median = statistics.median(summary)
    emit(
        [
            figure(
                "summary_render_10000",
                median,
                "ms",
                "GET /healthz, same client",
                statistics.median(health),
                "median <= 300 ms",
                median <= 300,
                database=vendor,
                accounts=ACCOUNTS,
                runs=RUNS,
                p95_ms=round(statistics.quantiles(summary, n=20)[18], 1),
                queries=len(executed),
            )
        ]
    )


if __name__ == "__main__":
    main()
