"""Signal background work, on the ``ingest`` queue. Thin, idempotent, never lost:
acks_late + reject_on_worker_lost re-deliver a message whose worker died, and the sweeper
finds whatever a lost message left pending (the database is the source of truth)."""

from celery import shared_task

from signals import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def process_signals_task(ids: list[int]) -> int:
    """Process these signals and whatever else is pending, up to PROCESS_BACKLOG."""
    return services.signals_process_queued(ids, backlog=services.PROCESS_BACKLOG)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_signals_task() -> int:
    """Beat runs it every 30 s; re-queues itself while more is left."""
    done, more = services.signals_sweep()
    if more:
        sweep_signals_task.apply_async(countdown=1)
    return done
