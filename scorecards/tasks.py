"""Scorecard background work. Thin: each task calls a service and is safe to run twice."""

from celery import shared_task

from scorecards.services import overrides, pending, recomputation


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_pending_task() -> int:
    """Recompute the accounts marked pending (coalesced); re-queue while more are left.

    Also the sweeper: beat runs it every minute, so a lost message only delays work.
    """
    done, more = pending.recompute_pending()
    if more:
        recompute_pending_task.apply_async(countdown=1)
    return done


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_all_task() -> int:
    """Nightly full recompute: windows slide with time even when no new fact arrives."""
    return recomputation.recompute().accounts


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_overrides_task() -> int:
    return overrides.expire_overrides()
