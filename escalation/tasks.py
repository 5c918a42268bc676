"""Escalation deadlines on the beat: reminders, automatic moves up, the sweeper."""

from celery import shared_task

from escalation.services import deadlines


@shared_task(acks_late=True, reject_on_worker_lost=True)
def escalation_sweep_task() -> dict[str, int]:
    return deadlines.sweep()
