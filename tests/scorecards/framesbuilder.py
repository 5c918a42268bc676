"""Build measure inputs (Frames) by hand, the way the selector shapes them.

Tickets and usage are aggregated by the database (``selectors.ticket_stats``,
``usage_stats``), so hand-made tickets and usage weeks are written to the test database and
read back through the loader; the other facts are frames built directly. Tests that pass
tickets or usage need the ``db`` fixture.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from scorecards.measures import DEFAULT_THRESHOLDS, Frames, Threshold
from scorecards.selectors import FRAME_COLUMNS, USAGE_COLUMNS, ticket_stats, usage_stats

COLUMNS = FRAME_COLUMNS
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def build(
    account_ids: list[int],
    *,
    tickets: list[dict[str, Any]] | None = None,
    usage: list[dict[str, Any]] | None = None,
    thresholds: list[Threshold] | None = None,
    **rows: list[dict[str, Any]],
) -> Frames:
    frames: dict[str, pd.DataFrame] = {}
    for name, cols in COLUMNS.items():
        records = rows.get(name, [])
        filled = [
            {c: r.get(c, _default(c, i)) for c in cols} for i, r in enumerate(records, start=1)
        ]
        df = pd.DataFrame.from_records(filled, columns=cols)
        for col in ("opened_at", "solved_at", "responded_at", "occurred_at"):
            if col in df:
                df[col] = pd.to_datetime(df[col], utc=True)
        frames[name] = df
    if tickets:
        write_tickets(tickets)
        stats = ticket_stats(account_ids, NOW, thresholds or DEFAULT_THRESHOLDS)
    else:
        stats = pd.DataFrame(index=pd.Index([], name="account_id"))
    if usage:
        write_usage(usage)
        weekly = usage_stats(account_ids, NOW, thresholds or DEFAULT_THRESHOLDS)
    else:
        weekly = pd.DataFrame(columns=USAGE_COLUMNS, index=pd.Index([], name="account_id"))
    return Frames(
        now=pd.Timestamp(NOW), account_ids=account_ids, tickets=stats, usage=weekly, **frames
    )


TICKET_DEFAULTS: dict[str, Any] = {
    "kind": "support",
    "priority": "normal",
    "status": "solved",
    "tags": [],
    "requester_group": "",
    "solved_at": None,
}


def _accounts(rows: list[dict[str, Any]]) -> None:
    from accounts.models import Account

    for account_id in sorted({r["account_id"] for r in rows}):
        Account.objects.get_or_create(pk=account_id, defaults={"name": f"Account {account_id}"})


def write_usage(usage: list[dict[str, Any]]) -> None:
    """The hand-made usage weeks as rows of the test database."""
    from accounts.models import UsageSnapshot

    _accounts(usage)
    UsageSnapshot.objects.bulk_create([UsageSnapshot(**u) for u in usage])


def write_tickets(tickets: list[dict[str, Any]]) -> None:
    """The hand-made tickets as rows of the test database (their accounts created by id)."""
    from accounts.models import Ticket

    _accounts(tickets)
    Ticket.objects.bulk_create(
        [
            Ticket(**{**TICKET_DEFAULTS, **{k: v for k, v in t.items() if k != "id"}})
            for t in tickets
        ]
    )


def _default(col: str, i: int) -> Any:
    return {
        "id": i,
        "kind": "support",
        "priority": "normal",
        "status": "solved",
        "tags": [],
        "requester_group": "",
        "solved_at": None,
        "adoption": None,
        "nps": None,
        "csat": None,
        "roles": [],
        "at_company": True,
        "left_on": None,
        "title": "",
        "name": f"Person {i}",
        "contact_id": None,
        "old_title": "",
        "new_title": "",
        "from_company": "",
        "completed_on": None,
    }.get(col)
