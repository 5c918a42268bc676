"""Recording the audit trail. Services call ``record`` inside their transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models

from csrisk import clock
from csrisk.models import AuditEntry, User


def jsonable(value: Any) -> Any:
    """An audit-friendly form of a field value: pks for objects, strings for the rest."""
    if isinstance(value, models.Model):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return f"{value:.2f}"  # money: "65000" and "65000.00" are the same amount
    return str(value)


def record(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    account_id: int | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Store one audit row; ``changes`` maps a field to its (old, new) values."""
    row = entry(
        actor=actor,
        action=action,
        target=target,
        account_id=account_id,
        changes=changes,
        reason=reason,
    )
    row.save(force_insert=True)
    return row


def record_many(rows: list[AuditEntry]) -> list[AuditEntry]:
    """Store many audit rows built by ``entry`` in one insert (a batch of rule CTAs)."""
    return AuditEntry.objects.bulk_create(rows, batch_size=1000)


def entry(
    *,
    actor: User | None,
    action: str,
    target: models.Model,
    account_id: int | None = None,
    changes: dict[str, tuple[Any, Any]] | None = None,
    reason: str = "",
) -> AuditEntry:
    """One audit row, not yet stored (``record`` stores it; ``record_many`` many)."""
    return AuditEntry(
        at=clock.now(),
        actor=actor if actor and actor.pk else None,
        action=action,
        target_type=target._meta.label_lower,
        target_id=target.pk,
        account_id=account_id,
        changes={k: [jsonable(a), jsonable(b)] for k, (a, b) in (changes or {}).items()},
        reason=reason,
    )
