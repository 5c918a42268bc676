"""Who assigns sponsors, who may overrule capacity, who asks for help, who logs check-ins."""

from __future__ import annotations

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk.models import User
from csrisk.roles import EXECUTIVE_ROLES, Role
from sponsors.models import CheckIn


def _staff(user: User) -> bool:
    return user.is_authenticated and user.is_active and not user.is_integration


def can_assign_sponsor(user: User, account: Account) -> bool:
    """Team leads (for their teams' accounts), the VP and the CEO (PRODUCT.md)."""
    if not _staff(user):
        return False
    if user.is_superuser or user.is_org_wide:
        return True
    return user.role == Role.TEAM_LEAD and can_change_account(user, account)


def can_overrule_capacity(user: User) -> bool:
    return _staff(user) and (user.is_superuser or user.role in (Role.VP_CS, Role.CEO))


def can_ask_for_help(user: User, account: Account) -> bool:
    """The account's CSM, their team lead, the VP (and CEO)."""
    return _staff(user) and (user.is_org_wide or can_change_account(user, account))


def can_log_checkin(user: User, checkin: CheckIn) -> bool:
    return _staff(user) and (
        user.pk == checkin.cta.owner_id or user.is_superuser or user.is_org_wide
    )


def may_sponsor(user: User) -> bool:
    return user.is_active and user.role in EXECUTIVE_ROLES
