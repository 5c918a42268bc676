"""Who may work a CTA and whose cockpit one may open."""

from __future__ import annotations

from accounts.rules import can_change_account
from csrisk.models import User
from csrisk.roles import Role
from ctas.models import Cta


def can_work_cta(user: User, cta: Cta) -> bool:
    """The CTA's owner, whoever may change its account (owner CSM, their lead), VP, CEO."""
    if not user.is_authenticated or not user.is_active or user.is_integration:
        return False
    if user.is_org_wide or cta.owner_id == user.pk:
        return True
    if can_change_account(user, cta.account):
        return True
    owner_team = cta.owner.team_id if cta.owner_id else None
    return user.role == Role.TEAM_LEAD and owner_team in user.led_team_ids()


def can_open_cockpit(user: User, of: User) -> bool:
    """Your own cockpit; a team lead any of their people's; the VP and CEO anyone's."""
    if user.pk == of.pk or user.is_org_wide:
        return True
    return user.role == Role.TEAM_LEAD and of.team_id in user.led_team_ids()


def can_assign_to(user: User, cta: Cta, new_owner: User) -> bool:
    """Hand a CTA to someone: within the owner's team, or anyone for the VP and CEO."""
    if new_owner.is_integration or not new_owner.is_active:
        return False
    if user.is_org_wide:
        return True
    team = cta.owner.team_id if cta.owner_id else None
    return (
        can_work_cta(user, cta)
        and new_owner.team_id is not None
        and new_owner.team_id
        in {
            team,
            user.team_id,
        }
    )
