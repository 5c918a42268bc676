"""Contacts of an account: create and change them, audited; a title edit is a people
change (``people.people_changes_record``)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import EmailValidator
from django.db import transaction

from accounts.choices import PeopleChangeKind
from accounts.models import Account, Contact
from accounts.rules import can_change_account
from accounts.services.people import PeopleChangeIn, people_changes_record
from csrisk import audit, clock
from csrisk.models import User

CONTACT_FIELDS = frozenset({"name", "email", "title", "roles", "at_company", "left_on", "crm_id"})


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


@transaction.atomic
def contacts_named_by_source(*, source: str, names: dict[int, dict[str, str]]) -> int:
    """A source system (a CRM webhook) names contacts it created with a placeholder: set
    each contact's ``name`` and/or ``email`` (``names``: contact pk → fields), audited with
    no actor and the source as the reason. An invalid e-mail address is left out. Returns
    how many contacts changed."""
    validate = EmailValidator()
    changed = 0
    for contact in Contact.objects.select_for_update().filter(pk__in=names).order_by("pk"):
        fields = dict(names[contact.pk])
        if "email" in fields:
            try:
                validate(fields["email"])
            except ValidationError:
                fields.pop("email")
        changes = {
            k: (getattr(contact, k), v[:200]) for k, v in fields.items() if getattr(contact, k) != v
        }
        if not changes:
            continue
        for k, (_, v) in changes.items():
            setattr(contact, k, v)
        contact.save(update_fields=[*changes, "updated_at"])
        audit.record(
            actor=None,
            action="contact.updated",
            target=contact,
            account_id=contact.account_id,
            changes=changes,
            reason=f"named by {source}",
        )
        changed += 1
    return changed
