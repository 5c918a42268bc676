"""Insights background work: the weekly executive summary and the signal backtest. Thin
and idempotent (the summary's dedupe key is the ISO week; a backtest run is claimed with a
conditional update), so a re-delivered message does nothing twice."""

from celery import shared_task

from insights import backtest_runs, services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def weekly_summary_task() -> int:
    """Beat runs it on Mondays; idempotent per ISO week (notify's dedupe key)."""
    return services.summary_email_send()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def backtest_run_task(run_id: int) -> str | None:
    """Run a queued backtest; idempotent (a run already taken or finished is left alone)."""
    run = backtest_runs.backtest_run_execute(run_id=run_id)
    return run.status if run else None


@shared_task
def sweep_backtest_runs_task() -> list[int]:
    """Beat: resend a backtest run a lost message or a dead worker left undone."""
    return list(backtest_runs.backtest_runs_sweep())


@shared_task(acks_late=True, reject_on_worker_lost=True)
def train_risk_task() -> str:
    """Beat runs it weekly: fit the renewal-risk model on the renewals on record and score
    every live account. Idempotent: a second run fits the same numbers (seeded folds)."""
    from insights.risk.services import risk_model_train

    return risk_model_train().version
