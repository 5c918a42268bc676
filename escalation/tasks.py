"""Escalation deadlines on the beat: reminders, automatic moves up, the sweeper."""

from celery import shared_task

from escalation.services import deadlines, lane


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalation_sweep_task() -> dict[str, int]:
    return deadlines.sweep()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def level_two_lane_task(after: int = 0) -> int | None:
    """The VP's lane over the whole book, a bounded batch per run (re-queues itself)."""
    following = lane.lane_sweep(after)
    if following is not None:
        level_two_lane_task.apply_async(args=[following], countdown=1)
    return following


@shared_task(acks_late=True, reject_on_worker_lost=True)
def lane_refresh_task(account_ids: list[int], only: list[str] | None = None) -> dict[str, int]:
    """The lane for a few accounts whose colours or renewal changed (``only``: the rules
    the change can move)."""
    return lane.lane_refresh(account_ids, only)
