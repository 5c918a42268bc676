"""The sponsor program on the beat: due check-ins, overdue chasing, eligibility."""

from celery import shared_task

from sponsors import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sponsor_program_task() -> dict[str, int]:
    """Idempotent: safe to run any number of times; after downtime it catches up."""
    return {
        "checkins": services.checkins_create_due(),
        "overdue_told": services.checkins_chase_overdue(),
        "assign_tasks": services.eligibility_check(),
    }
