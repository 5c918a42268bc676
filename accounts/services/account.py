"""Accounts: create and change them, within the writer's reach, audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Account
from accounts.rules import (
    can_change_account,
    can_move_account,
    can_reassign_to,
    changeable_accounts_q,
)
from csrisk import audit, events
from csrisk.models import User

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
        "hubspot_company_id",
    }
)


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
