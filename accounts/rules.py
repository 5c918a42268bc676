"""Who may change which customer account (PRODUCT.md roles; enforced on the server).

Reading the book is open to every internal person: support, product and executives need
to see an account's risk. Changing an account is narrower:
- a CSM changes the accounts they own;
- a team lead changes the accounts of the teams they lead;
- the VP of CS, the CEO and superusers change any account.
Moving an account to another team is narrower still (``can_move_account``): a CSM never
does, a team lead only between teams they lead, the VP, the CEO and superusers anywhere.
"""

from __future__ import annotations

from functools import cached_property

from django.db.models import Q

from accounts.models import Account
from csrisk.models import User
from csrisk.roles import Role


def changeable_accounts_q(user: User) -> Q:
    """A filter for the accounts ``user`` may change (``Q(pk__in=[])`` for none)."""
    if not user.is_authenticated or not user.is_active or user.is_integration:
        return Q(pk__in=[])
    if user.is_org_wide:
        return Q()
    if user.role == Role.TEAM_LEAD:
        return Q(team__lead=user) | Q(owner=user)
    if user.role == Role.CSM:
        return Q(owner=user)
    return Q(pk__in=[])


class AccountScope:
    """Which accounts one person may change. A bulk import makes one and asks it per row:
    a team lead's teams are read once, on the first question that needs them."""

    def __init__(self, user: User) -> None:
        self.user = user

    @cached_property
    def led_team_ids(self) -> frozenset[int]:
        return frozenset(self.user.led_team_ids())

    def can_change(self, account: Account) -> bool:
        user = self.user
        if not user.is_authenticated or not user.is_active or user.is_integration:
            return False
        if user.is_org_wide:
            return True
        if user.role == Role.TEAM_LEAD:
            return account.owner_id == user.pk or (
                account.team_id is not None and account.team_id in self.led_team_ids
            )
        if user.role == Role.CSM:
            return account.owner_id == user.pk
        return False

    def can_reassign_to(self, new_owner: User | None) -> bool:
        """A lead hands accounts only to people of their own teams; org-wide roles to anyone."""
        user = self.user
        if user.is_org_wide or new_owner is None:
            return user.is_org_wide or user.role == Role.TEAM_LEAD
        if user.role == Role.TEAM_LEAD:
            return new_owner.team_id is not None and new_owner.team_id in self.led_team_ids
        return False

    def can_move(self, from_team_id: int | None, to_team_id: int | None) -> bool:
        """See ``can_move_account``."""
        user = self.user
        if not user.is_authenticated or not user.is_active or user.is_integration:
            return False
        if from_team_id == to_team_id or user.is_org_wide:
            return True
        if user.role == Role.TEAM_LEAD:
            led = self.led_team_ids
            return to_team_id in led and (from_team_id is None or from_team_id in led)
        return False


def can_change_account(user: User, account: Account) -> bool:
    return AccountScope(user).can_change(account)


def can_import_accounts(user: User) -> bool:
    """Bulk imports touch many owners' accounts: team leads, the VP, the CEO, admins."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_org_wide or user.role == Role.TEAM_LEAD)
    )


def can_reassign_to(user: User, new_owner: User | None) -> bool:
    """A lead may hand accounts only to people of their own teams; org-wide roles to anyone."""
    return AccountScope(user).can_reassign_to(new_owner)


def can_move_account(user: User, from_team_id: int | None, to_team_id: int | None) -> bool:
    """Change an account's team (explicitly, or by giving it to someone of another team).

    Leads move accounts from a team they lead (or none) to a team they lead; the VP and the
    CEO anywhere; nobody else. Keeping the team is no move. One rule for the API, the edit
    form, account creation and the CSV import (``AccountScope.can_move``).
    """
    return AccountScope(user).can_move(from_team_id, to_team_id)
