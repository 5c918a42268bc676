"""Writes to the book of business. Each checks permission, validates, audits."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.choices import ImportStatus
from accounts.models import Account, Contact, ContactTitleChange, ImportJob
from accounts.rules import (
    can_change_account,
    can_import_accounts,
    can_reassign_to,
    changeable_accounts_q,
)
from csrisk import audit, clock, events
from csrisk.models import User

if TYPE_CHECKING:
    from accounts.importing import Plan

log = logging.getLogger(__name__)

ACCOUNT_FIELDS = frozenset(
    {
        "name",
        "arr",
        "currency",
        "segment",
        "tier",
        "industry",
        "renewal_date",
        "customer_since",
        "lifecycle_stage",
        "owner",
        "team",
        "crm_id",
        "helpdesk_org_id",
    }
)
CONTACT_FIELDS = frozenset({"name", "email", "title", "roles", "at_company", "left_on", "crm_id"})


def _check_owner_change(by: User, new_owner: User | None) -> None:
    if not can_reassign_to(by, new_owner):
        raise PermissionDenied("You may only assign accounts to people of your own teams.")


@transaction.atomic
def account_create(*, by: User, **fields: Any) -> Account:
    unknown = set(fields) - ACCOUNT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown account fields: {sorted(unknown)}")
    account = Account(**fields)
    if account.owner and account.team_id is None:
        account.team_id = account.owner.team_id
    if not by.is_org_wide:
        # A CSM creates accounts for themselves; a lead for people of their teams.
        if account.owner is None:
            account.owner = by
            account.team_id = account.team_id or by.team_id
        if not can_change_account(by, account):
            raise PermissionDenied("You may only create accounts in your own book or team.")
    account.full_clean()
    account.save()
    audit.record(actor=by, action="account.created", target=account, account_id=account.pk)
    events.emit_on_commit(events.accounts_changed, account_ids=[account.pk])
    return account


@transaction.atomic
def account_update(*, account: Account, by: User, **fields: Any) -> Account:
    unknown = set(fields) - ACCOUNT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown account fields: {sorted(unknown)}")
    locked = Account.objects.select_for_update(of=("self",)).filter(changeable_accounts_q(by))
    account = locked.filter(pk=account.pk).first()
    if account is None:
        raise PermissionDenied("You may not change this account.")
    if "owner" in fields and fields["owner"] != account.owner:
        _check_owner_change(by, fields["owner"])
        if "team" not in fields and fields["owner"] is not None:
            fields["team"] = fields["owner"].team
    changes = {
        name: (getattr(account, name), value)
        for name, value in fields.items()
        if getattr(account, name) != value
    }
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    if not can_change_account(by, account) and not by.is_org_wide:
        # e.g. a lead moving an account into a team they do not lead.
        raise PermissionDenied("The change would move the account out of your reach.")
    account.save()
    if changes:
        action = "account.reassigned" if "owner" in changes else "account.updated"
        audit.record(
            actor=by, action=action, target=account, account_id=account.pk, changes=changes
        )
        events.emit_on_commit(events.accounts_changed, account_ids=[account.pk])
    return account


@transaction.atomic
def contact_create(*, account: Account, by: User, **fields: Any) -> Contact:
    if not can_change_account(by, account):
        raise PermissionDenied("You may not change this account's contacts.")
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown contact fields: {sorted(unknown)}")
    contact = Contact(account=account, **fields)
    contact.full_clean()
    contact.save()
    audit.record(actor=by, action="contact.created", target=contact, account_id=account.pk)
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, by: User, source: str = "manual", **fields: Any) -> Contact:
    if not can_change_account(by, contact.account):
        raise PermissionDenied("You may not change this account's contacts.")
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown contact fields: {sorted(unknown)}")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    changes = {
        name: (getattr(contact, name), value)
        for name, value in fields.items()
        if getattr(contact, name) != value
    }
    if "at_company" in changes and fields["at_company"] is False and not fields.get("left_on"):
        fields["left_on"] = clock.today()
    for name, value in fields.items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    if "title" in changes:
        old, new = changes["title"]
        ContactTitleChange.objects.create(
            contact=contact, old_title=old, new_title=new, changed_on=clock.today(), source=source
        )
    if changes:
        audit.record(
            actor=by,
            action="contact.updated",
            target=contact,
            account_id=contact.account_id,
            changes=changes,
        )
    return contact


# --- CSV imports -------------------------------------------------------------------------

IMPORT_PROGRESS_KEY = "csrisk:import:{pk}:progress"


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

    from accounts.importing import plan_file, read_file
    from accounts.tasks import check_import_task

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
        transaction.on_commit(lambda: check_import_task.delay(job.pk))
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

    from accounts.importing import ImportFileError, build_plan
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
    from accounts.tasks import run_import_task

    if job.created_by_id != by.pk and not by.is_org_wide:
        raise PermissionDenied("Only the person who uploaded this file may import it.")
    with transaction.atomic():
        moved = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PREVIEWED).update(
            status=ImportStatus.QUEUED, queued_at=clock.now()
        )
        if moved:
            transaction.on_commit(lambda: run_import_task.delay(job.pk))
    job.refresh_from_db()
    if not moved and job.status == ImportStatus.INVALID:
        raise ValidationError("This file has errors; fix them and upload it again.")
    if not moved and job.status == ImportStatus.CHECKING:
        raise ValidationError("The file is still being checked; import it once it is ready.")
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Apply a queued import, all or nothing; safe to run twice (the second does nothing)."""
    from django.core.cache import cache

    from accounts.importing import ImportFileError, apply_plan, build_plan

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
    from accounts.tasks import check_import_task, run_import_task

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
            task = check_import_task if status == ImportStatus.CHECKING else run_import_task
            transaction.on_commit(lambda pk=pk, task=task: task.delay(pk))
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
