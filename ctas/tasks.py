from celery import shared_task

from ctas.services import alerts, transitions


@shared_task(acks_late=True, reject_on_worker_lost=True)
def daily_cta_sweep_task() -> dict[str, int]:
    """Wake snoozed CTAs whose day has come; tell owners and leads about overdue ones."""
    return {"woken": transitions.wake_snoozed(), "overdue_alerts": alerts.alert_overdue()}
