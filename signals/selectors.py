"""Reads of the signals app: the feed, an account's timeline, ingestion health, backfills,
the daily usage rolled up from analytics calls."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet

from accounts.models import DailyFeatureUsage, DailyUsage
from csrisk import clock
from signals.choices import SignalStatus
from signals.models import Backfill, IngestRejection, Signal, SignalVersion


def feed() -> QuerySet[Signal]:
    return Signal.objects.select_related("account").defer("payload").order_by("-received_at", "-pk")


def signal_detail() -> QuerySet[Signal]:
    """Signals with their account and sender, payload included (the feed defers it)."""
    return Signal.objects.select_related("account", "sent_by")


def versions(signal: Signal) -> list[SignalVersion]:
    return list(signal.versions.select_related("sent_by").order_by("-version")[:50])


def timeline(account_id: int, limit: int = 25) -> list[Signal]:
    return list(
        Signal.objects.filter(account_id=account_id)
        .order_by("-occurred_at", "-pk")
        .only("pk", "source", "external_id", "kind", "occurred_at", "version", "status", "payload")[
            :limit
        ]
    )


def health(now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Per source: last received, volume (24 h, 7 days), rejected (7 days), unmatched orgs."""
    now = now or clock.now()
    day, week = now - dt.timedelta(days=1), now - dt.timedelta(days=7)
    rows = {
        r["source"]: {**r, "rejected": 0, "last_reason": ""}
        for r in Signal.objects.values("source").annotate(
            last_received=Max("received_at"),
            day=Count("pk", filter=Q(received_at__gte=day)),
            week=Count("pk", filter=Q(received_at__gte=week)),
            pending=Count("pk", filter=Q(status=SignalStatus.PENDING)),
            unmatched=Count("pk", filter=Q(status=SignalStatus.UNMATCHED)),
            unmatched_orgs=Count("org_ref", filter=Q(status=SignalStatus.UNMATCHED), distinct=True),
        )
    }
    # A handful of rows (sources x 7 days): read them, no query per source.
    for r in IngestRejection.objects.filter(day__gte=week.date()).order_by("last_at"):
        row = rows.setdefault(
            r.source,
            {
                "source": r.source,
                "last_received": None,
                "day": 0,
                "week": 0,
                "pending": 0,
                "unmatched": 0,
                "unmatched_orgs": 0,
                "rejected": 0,
                "last_reason": "",
            },
        )
        row["rejected"] += r.count
        row["last_reason"] = r.last_reason  # the latest wins (ordered by last_at)
    return sorted(rows.values(), key=lambda r: r["source"])


def unmatched_orgs() -> list[dict[str, Any]]:
    return list(
        Signal.objects.filter(status=SignalStatus.UNMATCHED)
        .values("source", "org_ref")
        .annotate(n=Count("pk"), last=Max("received_at"))
        .order_by("-last")[:500]
    )


def backfill_progress(backfill: Backfill) -> dict[str, Any]:
    """Where a backfill is: what it was sent, stored and processed so far, the dates its
    signals cover, and a status (``storing`` a file, ``processing``, or ``done``)."""
    mine = Signal.objects.filter(backfill=backfill)
    by_status = dict(mine.values_list("status").annotate(n=Count("pk")).order_by())
    span = mine.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    pending = by_status.get(SignalStatus.PENDING, 0)
    if backfill.via in ("csv", "command") and backfill.finished_at is None:
        status = "storing"
    else:
        status = "processing" if pending else "done"
    return {
        "id": backfill.pk,
        "via": backfill.via,
        "source": backfill.source,
        "sender": backfill.sender,
        "by": backfill.created_by.username if backfill.created_by else None,
        "started_at": backfill.started_at,
        "finished_at": backfill.finished_at,
        "status": status,
        "sent": backfill.sent,
        "accepted": backfill.accepted,
        "duplicates": backfill.duplicates,
        "rejected": backfill.rejected,
        "stored": sum(by_status.values()),
        "pending": pending,
        "processed": by_status.get(SignalStatus.PROCESSED, 0),
        "unmatched": by_status.get(SignalStatus.UNMATCHED, 0),
        "failed": by_status.get(SignalStatus.FAILED, 0),
        "first_at": span["first"],
        "last_at": span["last"],
    }


@dataclass(frozen=True)
class BackfillLine:
    """A backfill as an account's timeline shows it: how many of its signals, from where,
    by whom, over which dates."""

    backfill_id: int
    at: dt.datetime
    count: int
    source: str
    sender: str
    first: dt.datetime
    last: dt.datetime

    @property
    def text(self) -> str:
        span = f"{self.first:%Y-%m-%d}" + (
            f" to {self.last:%Y-%m-%d}" if self.last.date() != self.first.date() else ""
        )
        noun = "signal" if self.count == 1 else "signals"
        return f"Backfill of {self.count} {noun} from {self.source} by {self.sender}, {span}"


def account_backfills(account_id: int, limit: int = 10) -> list[BackfillLine]:
    """The backfills that brought this account's history, newest first (two queries)."""
    rows = list(
        Signal.objects.filter(account_id=account_id, backfill__isnull=False)
        .values("backfill")
        .annotate(n=Count("pk"), first=Min("occurred_at"), last=Max("occurred_at"))
        .order_by("-backfill")[:limit]
    )
    found = Backfill.objects.in_bulk([r["backfill"] for r in rows])
    return [
        BackfillLine(
            b.pk,
            b.started_at,
            r["n"],
            b.source or b.get_via_display(),
            b.sender,
            r["first"],
            r["last"],
        )
        for r in rows
        if (b := found.get(r["backfill"])) is not None
    ]


def daily_usage(account_id: int) -> dict[dt.date, dict[str, Any]]:
    """An account's daily usage rolled up from analytics calls: day → active users,
    events and events per key feature (for the account page and tests)."""
    out: dict[dt.date, dict[str, Any]] = defaultdict(dict)
    refs: dict[tuple[str, str, dt.date], dt.date] = {}
    for row in DailyUsage.objects.filter(account_id=account_id).order_by("day"):
        entry = out[row.day]
        entry["active_users"] = entry.get("active_users", 0) + row.active_users
        entry["events"] = entry.get("events", 0) + row.events
        entry.setdefault("features", {})
        refs[(row.source, row.org_ref, row.day)] = row.day
    if refs:
        for f in DailyFeatureUsage.objects.filter(
            org_ref__in={k[1] for k in refs}, day__in={k[2] for k in refs}
        ):
            if (f.source, f.org_ref, f.day) in refs:
                feats = out[f.day]["features"]
                feats[f.feature] = feats.get(f.feature, 0) + f.events
    return dict(out)


def processing_backlog() -> tuple[int, dt.datetime | None]:
    """How many signals wait to be processed, and when the oldest of them arrived (one
    query on the partial index of pending work)."""
    row = Signal.objects.filter(status=SignalStatus.PENDING).aggregate(
        waiting=Count("pk"), oldest=Min("received_at")
    )
    return row["waiting"], row["oldest"]
