"""Writes to the book of business. Each checks permission, validates, audits."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from accounts.choices import ImportStatus, PeopleChangeKind
from accounts.models import Account, Contact, ContactTitleChange, ImportJob, PeopleChange
from accounts.rules import (
    can_change_account,
    can_import_accounts,
    can_move_account,
    can_reassign_to,
    changeable_accounts_q,
)
from csrisk import audit, clock, events, jobs
from csrisk.models import User

if TYPE_CHECKING:
    from accounts.importing.plan import Plan

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


def _check_team_move(by: User, from_team_id: int | None, to_team_id: int | None) -> None:
    if not can_move_account(by, from_team_id, to_team_id):
        raise PermissionDenied(
            "Only a team lead (between teams they lead), the VP or the CEO moves an account "
            "to another team."
        )


@transaction.atomic
def account_create(*, by: User, **fields: Any) -> Account:
    unknown = set(fields) - ACCOUNT_FIELDS
    if unknown:
        raise ValidationError(f"Unknown account fields: {sorted(unknown)}")
    account = Account(**fields)
    # A new account lands in its owner's team (the creator's without an owner); another
    # team is a move, which only leads (of both) and the VP and CEO make.
    home = (account.owner or by).team_id
    if fields.get("team") is not None:
        _check_team_move(by, home, account.team_id)
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
    if "team" in fields:
        _check_team_move(by, account.team_id, fields["team"].pk if fields["team"] else None)
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
        people_changes_record(
            [
                PeopleChangeIn(
                    account_id=contact.account_id,
                    change=PeopleChangeKind.TITLE_CHANGED,
                    occurred_at=clock.now(),
                    contact=contact,
                    old_title=old,
                    new_title=new,
                    source=source,
                )
            ]
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


# --- people changes ----------------------------------------------------------------------


@dataclass
class PeopleChangeIn:
    """One change among a customer's people, as any path reports it: REST, a webhook, a
    CSV upload, the account-contact import, a person editing a contact, the demo seed.

    ``person`` is the contact as the sender describes them (email, name, title, roles,
    crm_id); ``contact`` the contact itself when the caller holds it already. Titles left
    blank are read from the contact on record."""

    account_id: int
    change: str  # a PeopleChangeKind
    occurred_at: dt.datetime
    person: dict[str, Any] = field(default_factory=dict)
    contact: Contact | None = None
    old_title: str = ""
    new_title: str = ""
    from_company: str = ""
    roles: list[str] | None = None  # the person's roles then; else the contact's
    source: str = "manual"
    external_id: str | None = None


@dataclass
class PeopleChangeOut:
    """What recording a change found: the contact (None when the sender named nobody) and
    the title before and after."""

    contact: Contact | None
    old_title: str
    new_title: str
    recorded: bool  # False: nothing changed (a title we knew already, a first sighting)
    record: PeopleChange | None = None  # the people change, when one was recorded


@transaction.atomic
def people_changes_record(changes: Sequence[PeopleChangeIn]) -> list[PeopleChangeOut]:
    """Record people changes and everything each implies, in the order they happened: the
    contact (created when unknown), its roles, title and whether it is still at the
    company; the ``PeopleChange`` — the one record the company measures read — and, for a
    title change of a contact, the contact's title history (``ContactTitleChange``),
    derived here and nowhere else. Safe to run twice: a change with an external id is
    upserted by (source, external_id), and a title-history row is written once.

    A title change needs a title before it: a first sighting of someone (a new contact, a
    title we had not on record) sets the contact's title and records no change."""
    if not changes:
        return []
    order = sorted(range(len(changes)), key=lambda i: changes[i].occurred_at)
    known = _ContactIndex([c for c in changes if c.contact is None])
    out: list[PeopleChangeOut | None] = [None] * len(changes)
    rows: dict[tuple[str, str] | int, PeopleChange] = {}
    keys: dict[int, tuple[str, str] | int] = {}
    titles: list[ContactTitleChange] = []
    dirty: dict[int, set[str]] = {}
    for i in order:
        c = changes[i]
        p = c.person
        contact = c.contact or known.find(c.account_id, p)
        old_title = c.old_title or (contact.title if contact else "")
        new_title = c.new_title or p.get("title") or ""
        retitled = (
            c.change == PeopleChangeKind.TITLE_CHANGED
            and bool(new_title and old_title)
            and new_title != old_title
        )
        if contact is None and (p.get("name") or p.get("email")):
            contact = Contact.objects.create(
                account_id=c.account_id,
                name=(p.get("name") or p["email"])[:200],  # an address may be longer
                email=p.get("email", ""),
                title=new_title if c.change != PeopleChangeKind.LEFT else p.get("title", ""),
                roles=p.get("roles") or c.roles or [],
                crm_id=p.get("crm_id") or None,
                at_company=c.change != PeopleChangeKind.LEFT,
                left_on=c.occurred_at.date() if c.change == PeopleChangeKind.LEFT else None,
            )
            known.add(contact)
        if contact is not None:
            changed = dirty.setdefault(contact.pk, set()) if contact.pk else set()
            if p.get("roles") and contact.roles != p["roles"]:
                contact.roles = p["roles"]
                changed.add("roles")
            if c.change == PeopleChangeKind.LEFT and contact.at_company:
                contact.at_company, contact.left_on = False, c.occurred_at.date()
                changed |= {"at_company", "left_on"}
            if c.change == PeopleChangeKind.JOINED and not contact.at_company:
                contact.at_company, contact.left_on = True, None
                changed |= {"at_company", "left_on"}
            if c.change == PeopleChangeKind.TITLE_CHANGED and new_title != contact.title:
                contact.title = new_title
                changed.add("title")
            if retitled:
                titles.append(
                    ContactTitleChange(
                        contact=contact,
                        old_title=old_title,
                        new_title=new_title,
                        changed_on=c.occurred_at.date(),
                        source=c.source,
                    )
                )
        out[i] = PeopleChangeOut(contact, old_title, new_title, recorded=False)
        if c.change == PeopleChangeKind.TITLE_CHANGED and not retitled:
            continue  # a title we knew, or the first we hear of: no change
        row = PeopleChange(
            account_id=c.account_id,
            contact=contact,
            change=c.change,
            occurred_at=c.occurred_at,
            roles=(c.roles if c.roles is not None else contact.roles if contact else None)
            or p.get("roles")
            or [],
            old_title=old_title if retitled else c.old_title,
            new_title=new_title if retitled else c.new_title,
            from_company=c.from_company,
            source=c.source,
            external_id=c.external_id or None,
        )
        keys[i] = (c.source, c.external_id) if c.external_id else i
        rows[keys[i]] = row
    for contact in known.contacts(changes):
        fields = dirty.get(contact.pk)
        if fields:
            contact.save(update_fields=[*fields, "updated_at"])
    PeopleChange.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["source", "external_id"],
        update_fields=[
            "account",
            "contact",
            "change",
            "occurred_at",
            "roles",
            "old_title",
            "new_title",
            "from_company",
        ],
    )
    _title_history_add(titles)
    done = [o for o in out if o is not None]
    for i, key in keys.items():
        done[i].recorded, done[i].record = True, rows[key]  # a resend in the batch: the last
    return done


def _title_history_add(titles: list[ContactTitleChange]) -> None:
    """Write the title-history rows not written before (one query to find those)."""
    if not titles:
        return
    have = set(
        ContactTitleChange.objects.filter(
            contact_id__in={t.contact_id for t in titles}
        ).values_list("contact_id", "old_title", "new_title", "changed_on")
    )
    new: dict[tuple, ContactTitleChange] = {}
    for t in titles:
        key = (t.contact_id, t.old_title, t.new_title, t.changed_on)
        if key not in have:
            new.setdefault(key, t)
    ContactTitleChange.objects.bulk_create(list(new.values()))


class _ContactIndex:
    """The contacts a batch of changes may concern, read in two queries, found by CRM id,
    then e-mail, then name (the order a sender's description is most reliable in)."""

    def __init__(self, changes: list[PeopleChangeIn]) -> None:
        self.by_crm: dict[str, Contact] = {}
        self.by_email: dict[tuple[int, str], Contact] = {}
        self.by_name: dict[tuple[int, str], Contact] = {}
        self.seen: dict[int, Contact] = {}
        crm_ids = {c.person["crm_id"] for c in changes if c.person.get("crm_id")}
        accounts = {c.account_id for c in changes if c.person.get("email") or c.person.get("name")}
        if crm_ids or accounts:
            found = Contact.objects.filter(Q(crm_id__in=crm_ids) | Q(account_id__in=accounts))
            # The oldest first: where two share an e-mail or a name, the first on record wins.
            for contact in found.order_by("-pk"):
                self.add(contact)

    def add(self, contact: Contact) -> None:
        self.seen[contact.pk] = contact
        if contact.crm_id:
            self.by_crm[contact.crm_id] = contact
        if contact.email:
            self.by_email[(contact.account_id, contact.email.lower())] = contact
        self.by_name[(contact.account_id, contact.name)] = contact

    def find(self, account_id: int, person: dict[str, Any]) -> Contact | None:
        return (
            self.by_crm.get(person.get("crm_id") or "")
            or self.by_email.get((account_id, (person.get("email") or "").lower()))
            or self.by_name.get((account_id, person.get("name") or ""))
        )

    def contacts(self, changes: Sequence[PeopleChangeIn]) -> list[Contact]:
        """Every contact the batch touched, each once."""
        out = dict(self.seen)
        for c in changes:
            if c.contact is not None and c.contact.pk:
                out.setdefault(c.contact.pk, c.contact)
        return list(out.values())


# --- CSV imports -------------------------------------------------------------------------

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
