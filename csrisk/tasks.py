"""Delivery of notifications. Thin: each task calls a service and is safe to run twice."""

from typing import Any

from celery import shared_task

from csrisk import notifications, webhooks

TRANSIENT = notifications.TRANSIENT


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def deliver_notification_task(self: Any, notification_id: int) -> dict[str, bool]:
    """E-mail and chat for one notification; a failing SMTP or webhook is retried, and
    recorded as a delivery failure when the last retry fails too."""
    # In-process (eager) work cannot wait and retry: its first attempt is its last.
    last = self.request.is_eager or self.request.retries >= (self.max_retries or 0)
    return notifications.deliver(notification_id, last_attempt=last)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_notifications_task(notification_ids: list[int]) -> int:
    """E-mail and chat for a batch of notifications (one message, not one per
    notification); one that fails transiently is retried on its own."""
    return notifications.deliver_each(notification_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_digests_task() -> int:
    return notifications.send_digests()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def deliver_webhook_task(delivery_id: int) -> str:
    """One signed attempt at an outbound webhook; the service schedules any retry."""
    return webhooks.deliver(delivery_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def sweep_webhooks_task() -> int:
    """Resend the outbound webhook deliveries that are due (lost messages, retries)."""
    return webhooks.sweep()
