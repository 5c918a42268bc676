"""CSV imports of accounts and contacts: preview, check, commit, run, sweep."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import ImportStatus
from accounts.models import ImportJob
from accounts.rules import (
    can_import_accounts,
)
from csrisk import audit, clock, events, jobs
from csrisk.models import User

if TYPE_CHECKING:
    from accounts.importing.plan import Plan

log = logging.getLogger(__name__)

IMPORT_PROGRESS_KEY = "csrisk:import:{pk}:progress"
# Queued by name (csrisk.jobs): services never import tasks, tasks import services.
CHECK_IMPORT_TASK = "accounts.tasks.check_import_task"
RUN_IMPORT_TASK = "accounts.tasks.run_import_task"


def import_job_create(
    *,
    by: User,
    filename: str,
    content: bytes,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> ImportJob:
    """Read and validate a file (the dry run) and keep it for a later commit.

    Raises ``ImportFileError`` when the file as a whole is unreadable; nothing is stored.
    """
    from django.conf import settings

    from accounts.importing.dry_run import plan_file
    from accounts.importing.reading import read_file

    if not can_import_accounts(by):
        raise PermissionDenied("Imports are for team leads, the VP and the CEO.")
    read = read_file(content, kind=kind, mapping=mapping, encoding=encoding)
    job = ImportJob(
        kind=read.kind,
        filename=filename[:255],
        content=content,
        mapping={"columns": read.columns, "ignored": read.ignored, "encoding": encoding},
        total_rows=read.total_rows,
        created_by=by,
    )
    if read.total_rows > settings.CSRISK_IMPORT_INLINE_ROWS:
        # Checking every row against the book takes a while for a large file: a task
        # does it (in-process without Redis) while the job page shows its progress.
        job.status = ImportStatus.CHECKING
        job.queued_at = clock.now()
        job.save()
        transaction.on_commit(lambda: jobs.queue(CHECK_IMPORT_TASK, job.pk))
        return job
    _set_preview(job, plan_file(read, by=by))
    job.save()
    return job


def _set_preview(job: ImportJob, plan: Plan) -> None:
    """The dry run's outcome on the job: ready to commit, or every problem found."""
    job.status = ImportStatus.PREVIEWED if plan.ok else ImportStatus.INVALID
    job.total_rows = plan.total_rows
    job.created_count = len(plan.creates)
    job.updated_count = len(plan.updates)
    job.errors = [e.as_dict() for e in plan.errors[:5000]]
    job.message = "" if plan.ok else f"{len(plan.errors)} problem(s) found; nothing was imported."


def import_job_check(*, job_id: int) -> ImportJob:
    """Check a large file's rows (the preview) in the background; safe to run twice."""
    from django.core.cache import cache

    from accounts.importing.dry_run import build_plan
    from accounts.importing.reading import ImportFileError
    from csrisk.csvfiles import escape_controls

    key = IMPORT_PROGRESS_KEY.format(pk=job_id)
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None or job.status != ImportStatus.CHECKING:
        return job or ImportJob.objects.get(pk=job_id)
    try:
        if job.created_by is None:
            raise ImportFileError("The person who uploaded this file no longer exists.")
        plan = build_plan(
            bytes(job.content),
            by=job.created_by,
            kind=job.kind,
            mapping=job.mapping.get("columns"),
            encoding=job.mapping.get("encoding", "utf-8"),
            progress=lambda n: cache.set(key, n, timeout=3600),
        )
        _set_preview(job, plan)
    except ImportFileError as exc:
        job.status, job.message = ImportStatus.INVALID, f"{exc} Nothing was imported."
    except Exception as exc:
        log.exception("checking import job %s failed", job_id)
        job.status = ImportStatus.FAILED
        job.message = f"Checking the file failed; nothing was imported. ({exc})"[:500]
        job.message = escape_controls(job.message)
    finally:
        cache.delete(key)
    fields = ["status", "total_rows", "created_count", "updated_count", "errors", "message"]
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.CHECKING).update(
        **{f: getattr(job, f) for f in fields}
    )
    job.refresh_from_db()
    return job


def import_job_commit(*, job: ImportJob, by: User) -> ImportJob:
    """Queue a previewed import. Race-safe: only one commit of a job is ever queued."""
    if job.created_by_id != by.pk and not by.is_org_wide:
        raise PermissionDenied("Only the person who uploaded this file may import it.")
    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
            status=ImportStatus.QUEUED, queued_at=clock.now()
        )
        if moved:
            transaction.on_commit(lambda: jobs.queue(RUN_IMPORT_TASK, job.pk))
    job.refresh_from_db()
    if not moved and job.status == ImportStatus.INVALID:
        raise ValidationError("This file has errors; fix them and upload it again.")
    if not moved and job.status == ImportStatus.CHECKING:
        raise ValidationError("The file is still being checked; import it once it is ready.")
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Apply a queued import, all or nothing; safe to run twice (the second does nothing)."""
    from django.core.cache import cache

    from accounts.importing.committing import apply_plan
    from accounts.importing.dry_run import build_plan
    from accounts.importing.reading import ImportFileError

    key = IMPORT_PROGRESS_KEY.format(pk=job_id)
    try:
        with transaction.atomic():
            job = ImportJob.objects.select_for_update().get(pk=job_id)
            if job.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
                return job
            job.status = ImportStatus.RUNNING
            by = job.created_by
            if by is None:
                raise ImportFileError("The person who uploaded this file no longer exists.")
            # Validate again: the book may have changed since the preview.
            plan = build_plan(
                bytes(job.content),
                by=by,
                kind=job.kind,
                mapping=job.mapping.get("columns"),
                encoding=job.mapping.get("encoding", "utf-8"),
            )
            if not plan.ok:
                job.status = ImportStatus.INVALID
                job.errors = [e.as_dict() for e in plan.errors[:5000]]
                job.message = "The book changed since the preview; nothing was imported."
                job.finished_at = clock.now()
                job.save()
                return job
            created, updated = apply_plan(
                plan, by=by, progress=lambda n: cache.set(key, n, timeout=3600)
            )
            job.status = ImportStatus.DONE
            job.processed_rows = job.total_rows
            job.created_count, job.updated_count = created, updated
            job.message = f"Imported: {created} created, {updated} updated."
            job.finished_at = clock.now()
            job.save()
            audit.record(
                actor=by,
                action=f"{job.kind}.imported",
                target=job,
                changes={"created": (0, created), "updated": (0, updated)},
                reason=job.filename,
            )
            if job.kind == "accounts":
                events.emit_on_commit(events.accounts_changed, account_ids=None)
            return job
    except ImportFileError as exc:
        _import_job_fail(job_id, str(exc))
    except Exception as exc:
        # Whatever stopped the write (the database refusing a value, a bug), the
        # transaction rolled it all back: say so on the job instead of leaving it queued.
        log.exception("import job %s failed", job_id)
        if not _import_job_fail(job_id, f"The write stopped: {exc}"):
            raise  # the database is unreachable: the task is retried (acks_late)
    finally:
        cache.delete(key)
    return ImportJob.objects.get(pk=job_id)


IMPORT_RESEND_AFTER = dt.timedelta(minutes=10)
IMPORT_GIVE_UP_AFTER = dt.timedelta(hours=24)


def import_jobs_sweep() -> tuple[int, int]:
    """Resend the task of a job waiting too long (a lost message); give up on one waiting
    a day, marking it failed with the reason. Returns (resent, failed)."""
    now = clock.now()
    waiting = ImportJob.objects.filter(
        status__in=[ImportStatus.CHECKING, ImportStatus.QUEUED],
        queued_at__lt=now - IMPORT_RESEND_AFTER,
    )
    failed = waiting.filter(queued_at__lt=now - IMPORT_GIVE_UP_AFTER).update(
        status=ImportStatus.FAILED,
        message="The import never ran (no background worker took it); nothing was imported. "
        "Upload the file again.",
        finished_at=now,
    )
    resent = 0
    for pk, status in waiting.values_list("pk", "status"):
        # Conditional: a job that moved on meanwhile is left alone.
        if ImportJob.objects.filter(pk=pk, status=status).update(queued_at=now):
            task = CHECK_IMPORT_TASK if status == ImportStatus.CHECKING else RUN_IMPORT_TASK
            transaction.on_commit(lambda pk=pk, task=task: jobs.queue(task, pk))
            resent += 1
    return resent, failed


def _import_job_fail(job_id: int, reason: str) -> bool:
    """Mark a job failed with ``reason``; False when even that cannot be written."""
    from django.db import DatabaseError

    from csrisk.csvfiles import escape_controls

    message = f"The import failed; nothing was imported. {escape_controls(reason)[:500]}"
    try:
        ImportJob.objects.filter(
            pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
        ).update(status=ImportStatus.FAILED, message=message, finished_at=clock.now())
    except DatabaseError:
        log.exception("import job %s could not be marked failed", job_id)
        return False
    return True


def import_job_progress(job: ImportJob) -> int:
    """Rows checked or written so far; the work runs in one transaction (or a task), so
    progress lives in the cache."""
    from django.core.cache import cache

    if job.status in (ImportStatus.CHECKING, ImportStatus.QUEUED, ImportStatus.RUNNING):
        return int(cache.get(IMPORT_PROGRESS_KEY.format(pk=job.pk)) or 0)
    return job.total_rows if job.status == ImportStatus.DONE else 0
