"""Scorecard background work. Thin: each task calls a service and is safe to run twice."""

from celery import Task, shared_task

from scorecards.services import overrides, pending, runs


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_pending_task() -> int:
    """Recompute the accounts marked pending (coalesced); re-queue while more are left.

    Also the sweeper: beat runs it every minute, so a lost message only delays work.
    A backlog being processed holds it (``pending.recompute_hold``): it looks again shortly.
    """
    wait = pending.recompute_wait()
    if wait:
        recompute_pending_task.apply_async(countdown=wait)
        return 0
    done, more = pending.recompute_pending()
    if more:
        recompute_pending_task.apply_async(countdown=1)
    return done


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_all_task() -> int:
    """Nightly full recompute: windows slide with time even when no new fact arrives.

    Split into chunks that every worker on the recompute queue shares; returns the run's id.
    """
    return runs.recompute_run_start().pk


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=runs.MAX_ATTEMPTS,
)
def recompute_chunk_task(self: Task, chunk_id: int) -> int:
    """One chunk of a full recompute; when another worker holds it, look again after the
    lease (a second delivery of a live chunk, or the redelivery of one whose worker died)."""
    done = runs.recompute_chunk(chunk_id)
    if done is None:
        raise self.retry(countdown=int(runs.LEASE.total_seconds()))
    return done


@shared_task(acks_late=True, reject_on_worker_lost=True)
def requeue_recompute_chunks_task() -> int:
    """Sweeper: resend the chunks of a full recompute that a lost message left undone."""
    return runs.requeue_stale_chunks()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_overrides_task() -> int:
    return overrides.expire_overrides()
