"""Build measure inputs (Frames) by hand, the way the selector shapes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from scorecards.measures import Frames
from scorecards.selectors import FRAME_COLUMNS

COLUMNS = FRAME_COLUMNS
NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def build(account_ids: list[int], **rows: list[dict[str, Any]]) -> Frames:
    frames = {}
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
    return Frames(now=pd.Timestamp(NOW), account_ids=account_ids, **frames)


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
