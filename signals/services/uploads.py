"""CSV uploads of signals: read and check a file (preview), then store every row or none."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.importing import ImportFileError
from accounts.rules import can_import_accounts
from csrisk import audit, clock
from csrisk.models import User
from signals import provenance
from signals.models import SignalImport
from signals.services.backfills import backfill_finish, backfill_start


def signal_import_create(
    *, by: User, filename: str, content: bytes, kind: str, history: bool = False
) -> SignalImport:
    """Read and check a CSV (preview); nothing but the upload itself is written.
    ``history``: the file is a backfill (stored on commit without alerting on the past)."""
    from signals.importing import build_plan

    if not can_import_accounts(by):
        raise PermissionDenied("Uploads are for team leads, the VP and the CEO.")
    plan = build_plan(content, kind=kind, by=by)  # ImportFileError for a bad file
    return SignalImport.objects.create(
        kind=kind,
        filename=filename[:255],
        content=content,
        status="previewed" if plan.ok else "invalid",
        total_rows=plan.total_rows,
        errors=[e.as_dict() for e in plan.errors[:2000]],
        created_by=by,
        created_at=clock.now(),
        history=history,
    )


@transaction.atomic
def signal_import_commit(*, upload: SignalImport, by: User) -> SignalImport:
    """Store every row of a previewed upload, or none. Race-safe: one commit per upload."""
    from signals.importing import apply_plan, build_plan

    if upload.created_by_id != by.pk:
        raise PermissionDenied("Only the person who uploaded this file may import it.")
    locked = SignalImport.objects.select_for_update().get(pk=upload.pk)
    if locked.status != "previewed":
        raise ValidationError("This upload cannot be imported (again).")
    # Checked again: the uploader's teams or the stored signals may have changed since.
    plan = build_plan(bytes(locked.content), kind=locked.kind, by=by)
    if not plan.ok:
        locked.status = "invalid"
        locked.errors = [e.as_dict() for e in plan.errors[:2000]]
        locked.save(update_fields=["status", "errors"])
        return locked
    backfill = None
    if locked.history:
        sender = provenance.sender_of_upload(by, locked.pk, plan.account_ids)
        backfill = backfill_start(via="csv", sender=sender, by=by)
    try:
        accepted, duplicates = apply_plan(plan, by=by, upload_id=locked.pk, backfill=backfill)
    except ImportFileError as exc:
        raise ValidationError(str(exc)) from None
    if backfill is not None:
        backfill_finish(backfill)
    locked.status, locked.accepted, locked.duplicates = "done", accepted, duplicates
    locked.backfill = backfill
    locked.save(update_fields=["status", "accepted", "duplicates", "backfill"])
    audit.record(
        actor=by,
        action="signals.csv_imported",
        target=locked,
        changes={"accepted": (0, accepted)},
        reason=locked.filename,
    )
    return locked
