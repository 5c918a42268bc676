"""Coalesced recompute requests: however often an account is marked within a window, it
is recomputed once (``request_recompute`` → ``PendingRecompute`` → ``recompute_pending``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from csrisk import clock, jobs
from scorecards.models import PendingRecompute
from scorecards.services.recomputation import recompute

RECOMPUTE_WINDOW_SECONDS = 5
SCHEDULED_KEY = "csrisk:scorecards:recompute-scheduled"
PENDING_TASK = "scorecards.tasks.recompute_pending_task"


def request_recompute(account_ids: Iterable[int]) -> None:
    """Mark accounts for recompute. However many times an account is marked within the
    window, it is recomputed once: the marks collapse into one PendingRecompute row."""
    ids = set(account_ids)
    if not ids:
        return
    now = clock.now()
    PendingRecompute.objects.bulk_create(
        [PendingRecompute(account_id=i, requested_at=now) for i in ids], ignore_conflicts=True
    )
    transaction.on_commit(_schedule_pending)


def _schedule_pending() -> None:
    if jobs.runs_eagerly():
        jobs.queue(PENDING_TASK)
        return
    # One scheduled run per window, whatever the number of requests in it.
    if cache.add(SCHEDULED_KEY, 1, timeout=RECOMPUTE_WINDOW_SECONDS):
        jobs.queue(PENDING_TASK, countdown=RECOMPUTE_WINDOW_SECONDS)


def recompute_pending(limit: int = 500) -> tuple[int, bool]:
    """Recompute up to ``limit`` pending accounts; return (done, more_left)."""
    started = clock.now()
    ids = list(
        PendingRecompute.objects.order_by("requested_at").values_list("account_id", flat=True)[
            :limit
        ]
    )
    if not ids:
        return 0, False
    recompute(ids)
    # A request that arrived during the run stays pending for the next one.
    PendingRecompute.objects.filter(account_id__in=ids, requested_at__lte=started).delete()
    return len(ids), PendingRecompute.objects.exists()
