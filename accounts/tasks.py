from celery import shared_task

from accounts import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_task(job_id: int) -> str:
    """Apply a committed CSV import; idempotent (a finished job is left alone)."""
    return services.import_job_run(job_id=job_id).status


@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_import_task(job_id: int) -> str:
    """Check every row of a large uploaded file (the preview); idempotent."""
    return services.import_job_check(job_id=job_id).status


@shared_task
def sweep_import_jobs_task() -> list[int]:
    """Beat: resend the tasks of import jobs left waiting by a lost message."""
    return list(services.import_jobs_sweep())
