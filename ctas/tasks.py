from celery import shared_task

from ctas import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def daily_cta_sweep_task() -> dict[str, int]:
    """Wake snoozed CTAs whose day has come; tell owners and leads about overdue ones."""
    return {"woken": services.wake_snoozed(), "overdue_alerts": services.alert_overdue()}
