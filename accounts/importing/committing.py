"""Committing a valid plan: every row written in one transaction or none, each change
audited, people changes recorded through ``accounts.services``."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from accounts.choices import ImportKind, PeopleChangeKind
from accounts.importing.plan import Plan, ProgressFn
from accounts.models import Account, Contact
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import audit, clock
from csrisk.db import insert_rows
from csrisk.models import AuditEntry, User

BATCH = 1000


def _current(obj: Any, name: str) -> Any:
    """A field's stored value; a foreign key as its id, so comparing reads no row."""
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname) if field.is_relation else getattr(obj, name)


def _plain(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


@transaction.atomic
def apply_plan(plan: Plan, *, by: User, progress: ProgressFn | None = None) -> tuple[int, int]:
    """Write a valid plan in one transaction; return (created, updated).

    Creations are audited once per import by the caller; each changed row gets its own
    audit entry with the old and new values (an owner change is a reassignment).
    """
    if not plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    now = clock.now()
    done = 0
    audits: list[AuditEntry] = []
    model: type[Account] | type[Contact] = Account if plan.kind == ImportKind.ACCOUNTS else Contact
    target_type = model._meta.label_lower

    # New rows as plain tuples (csrisk.db.insert_rows): bulk_create prepared every value
    # through its field and, on SQLite, wrote 66 rows a statement; that was most of an
    # import's time. A column the file does not set gets its field's default.
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamps = {"created_at": now, "updated_at": now}
    pairs = [(f, stamps[f.name] if f.name in stamps else f.get_default()) for f in fields]
    unknown = {k for row in plan.creates for k in row} - {f.name for f in fields}
    if unknown:  # a planner's key that names no column would be dropped silently
        raise ValueError(f"Not a field of {model.__name__}: {', '.join(sorted(unknown))}")
    for start in range(0, len(plan.creates), BATCH):
        chunk = plan.creates[start : start + BATCH]
        insert_rows(
            model,
            [f.attname for f in fields],
            ([_plain(row[f.name]) if f.name in row else d for f, d in pairs] for row in chunk),
        )
        done += len(chunk)
        if progress:
            progress(done)

    # People changes (titles, departures, returns) are recorded after the contacts are
    # written, by the one service every people change goes through.
    people: list[PeopleChangeIn] = []
    for start in range(0, len(plan.updates), BATCH):
        chunk = plan.updates[start : start + BATCH]
        changed: list[Any] = []
        fields: set[str] = set()
        for obj, row in chunk:
            diff = {
                k: (_current(obj, k), v) for k, v in row.items() if _current(obj, k) != _plain(v)
            }
            if not diff:
                continue
            if isinstance(obj, Contact):
                if "title" in diff:
                    people.append(
                        PeopleChangeIn(
                            account_id=obj.account_id,
                            change=PeopleChangeKind.TITLE_CHANGED,
                            occurred_at=now,
                            contact=obj,
                            old_title=diff["title"][0],
                            new_title=diff["title"][1],
                            source="import",
                        )
                    )
                if "at_company" in diff:
                    went = diff["at_company"][1] is False
                    change = PeopleChangeKind.LEFT if went else PeopleChangeKind.JOINED
                    people.append(
                        PeopleChangeIn(
                            account_id=obj.account_id,
                            change=change,
                            occurred_at=now,
                            contact=obj,
                            source="import",
                        )
                    )
                if diff.get("at_company", (None, True))[1] is False and not obj.left_on:
                    row = {**row, "left_on": now.date()}
                    diff["left_on"] = (None, now.date())
            for k, v in row.items():
                setattr(obj, k, v)
            fields |= set(diff)
            changed.append(obj)
            account_id = obj.pk if isinstance(obj, Account) else obj.account_id
            audits.append(
                AuditEntry(
                    at=now,
                    actor=by,
                    target_type=target_type,
                    target_id=obj.pk,
                    account_id=account_id,
                    action="account.reassigned"
                    if "owner" in diff
                    else f"{model._meta.model_name}.updated",
                    changes={
                        k: [audit.jsonable(a), audit.jsonable(b)] for k, (a, b) in diff.items()
                    },
                    reason="CSV import",
                )
            )
        if changed:
            for obj in changed:
                obj.updated_at = now
            model.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=BATCH)
        done += len(chunk)
        if progress:
            progress(done)
    people_changes_record(people)
    AuditEntry.objects.bulk_create(audits, batch_size=BATCH)
    return len(plan.creates), len(audits)
