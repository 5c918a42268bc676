"""Non-critical ticket velocity: the pandas measure agrees with a plain SQL window query
(the oracle) on a small random book, including the floor and the critical exclusion."""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection

from accounts.models import Ticket
from scorecards import measures, selectors
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
ORACLE = """
SELECT account_id,
       SUM(CASE WHEN opened_at > %s AND opened_at <= %s THEN 1 ELSE 0 END) AS n1,
       SUM(CASE WHEN opened_at > %s AND opened_at <= %s THEN 1 ELSE 0 END) AS n0
FROM accounts_ticket
WHERE kind = 'support' AND priority <> 'urgent'
GROUP BY account_id
"""


def oracle(now: dt.datetime, window: int = 90, floor: float = 8.0) -> dict[int, float]:
    cut, start = now - dt.timedelta(days=window), now - dt.timedelta(days=2 * window)
    with connection.cursor() as cursor:
        cursor.execute(ORACLE, [cut, now, start, cut])
        return {a: (n1 - n0) / max(n0, floor) for a, n1, n0 in cursor.fetchall()}


def test_the_measure_agrees_with_the_sql_oracle(org):
    rng = random.Random(7)
    accounts = [AccountFactory(owner=org.csm_a) for _ in range(12)]
    for account in accounts:
        for _ in range(rng.randint(0, 40)):
            Ticket.objects.create(
                account=account,
                kind=rng.choice(["support", "support", "support", "defect"]),
                priority=rng.choice(["low", "normal", "high", "urgent"]),
                opened_at=NOW - dt.timedelta(days=rng.uniform(0, 200)),
            )
    threshold = next(
        t for t in measures.DEFAULT_THRESHOLDS if t.code == "support.noncritical_velocity"
    )
    frames = selectors.load_frames([a.pk for a in accounts], NOW)
    rows = measures.MEASURES["support.noncritical_velocity"](frames, threshold)
    expected = oracle(NOW)
    got = {int(a): float(v) for a, v in rows["value"].dropna().items()}
    assert set(got) == set(expected)
    for account_id, value in expected.items():
        assert abs(got[account_id] - value) < 1e-9, account_id
    # the floor and the exclusions do bite in this book
    assert any(v != 0 for v in expected.values())


def test_the_loader_runs_with_the_debug_cursor_too(org):
    # The demo runs with DEBUG on: Django's debug cursor logs every statement with its
    # parameters, and its SQLite cursor binds every entry of a parameter mapping.
    account = AccountFactory(owner=org.csm_a)
    Ticket.objects.create(account=account, opened_at=NOW - dt.timedelta(days=3))
    connection.force_debug_cursor = True
    try:
        frames = selectors.load_frames([account.pk], NOW)
    finally:
        connection.force_debug_cursor = False
    assert frames.tickets.loc[account.pk, "v_n1"] == 1
