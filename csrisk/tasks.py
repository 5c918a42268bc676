"""Delivery of notifications. Thin: each task calls a service and is safe to run twice."""

import smtplib
import urllib.error

from celery import shared_task

from csrisk import notifications

TRANSIENT = (OSError, smtplib.SMTPException, urllib.error.URLError)


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT,
    retry_backoff=5,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def deliver_notification_task(notification_id: int) -> dict[str, bool]:
    """E-mail and chat for one notification; a failing SMTP or webhook is retried."""
    return notifications.deliver(notification_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_digests_task() -> int:
    return notifications.send_digests()
