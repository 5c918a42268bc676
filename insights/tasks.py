"""Insights background work: the weekly executive summary. Thin and idempotent (the
notification's dedupe key is the ISO week), so a re-delivered message tells nobody twice."""

from celery import shared_task

from insights import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def weekly_summary_task() -> int:
    """Beat runs it on Mondays; idempotent per ISO week (notify's dedupe key)."""
    return services.summary_email_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def train_risk_task() -> str:
    """Beat runs it weekly: fit the renewal-risk model on the renewals on record and score
    every live account. Idempotent: a second run fits the same numbers (seeded folds)."""
    from insights.risk.services import risk_model_train

    return risk_model_train().version
