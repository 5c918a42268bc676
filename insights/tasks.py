"""Insights background work: the weekly executive summary. Thin and idempotent (the
notification's dedupe key is the ISO week), so a re-delivered message tells nobody twice."""

from celery import shared_task

from insights import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def weekly_summary_task() -> int:
    """Beat runs it on Mondays; idempotent per ISO week (notify's dedupe key)."""
    return services.summary_email_send()
