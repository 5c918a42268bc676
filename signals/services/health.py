"""Ingestion health: how many items each source had refused per day, and the last reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F

from csrisk import clock, metrics
from signals import normalise
from signals.models import IngestRejection
from signals.services.outcomes import REJECTED, Outcome


def ingest_counted(source: str, outcome: str, count: int) -> None:
    """Count ``count`` items of ``source`` with this outcome (accepted, duplicate, rejected)
    in /metrics once the transaction that stored them commits: a request rolled back
    (the database away: a 503) stored nothing, so counts nothing."""
    if count:
        transaction.on_commit(lambda: metrics.signals_counted(source, outcome, count))


def first_source(raws: Sequence[Any]) -> str:
    """The source a batch names first, for counting rejections of a batch without a default."""
    for raw in raws:
        if isinstance(raw, dict) and isinstance(raw.get("source"), str) and raw["source"]:
            return raw["source"][:40]
    return "unknown"


def count_rejections(outcomes: list[Outcome], source: str, now: dt.datetime) -> None:
    rejected = [o for o in outcomes if o.status == REJECTED]
    if rejected:
        rejection_record(source=source, count=len(rejected), reason=rejected[-1].reason, now=now)


def rejection_record(
    *, source: str, count: int, reason: str, now: dt.datetime | None = None
) -> None:
    """Count refused items per source and day (ingestion health), race-safe."""
    now = now or clock.now()
    day = now.date()
    # The source and reason may quote what a sender sent; stored escaped where needed.
    source, reason = normalise.printable(source)[:40], normalise.printable(reason)
    ingest_counted(source, REJECTED, count)
    n = IngestRejection.objects.filter(source=source, day=day).update(
        count=F("count") + count, last_reason=reason[:300], last_at=now
    )
    if not n:
        IngestRejection.objects.bulk_create(
            [IngestRejection(source=source, day=day, count=0, last_at=now)],
            ignore_conflicts=True,
        )
        IngestRejection.objects.filter(source=source, day=day).update(
            count=F("count") + count, last_reason=reason[:300], last_at=now
        )
