"""Who may work a CTA and whose cockpit one may open."""

from __future__ import annotations

from accounts.models import Account
from accounts.rules import can_change_account
from csrisk.models import User
from csrisk.roles import Role
from ctas.models import Cta
from scorecards import raci


def can_work_cta(user: User, cta: Cta) -> bool:
    """The CTA's owner, whoever may change its account (owner CSM, their lead), VP, CEO,
    and the department team that owns its area (RACI)."""
    if not user.is_authenticated or not user.is_active or user.is_integration:
        return False
    if user.is_org_wide or cta.owner_id == user.pk:
        return True
    if can_change_account(user, cta.account):
        return True
    owner_team = cta.owner.team_id if cta.owner_id else None
    if user.role == Role.TEAM_LEAD and owner_team in user.led_team_ids():
        return True
    # RACI: the department that owns the CTA's area works it from its area queue.
    return bool(cta.area) and cta.area in raci.user_areas(user)


def can_open_cockpit(user: User, of: User) -> bool:
    """Your own cockpit; a team lead any of their people's; the VP and CEO anyone's."""
    if user.pk == of.pk or user.is_org_wide:
        return True
    return user.role == Role.TEAM_LEAD and of.team_id in user.led_team_ids()


def can_assign(user: User, *, account: Account, holder: User | None, new_owner: User) -> bool:
    """Give a CTA on ``account`` to ``new_owner`` (a new one, or one ``holder`` has now).

    The VP and the CEO give it to anyone. Everyone else gives it to themselves, to the
    account's owner, or to someone of the CTA's team (the holder's or the account's) or of
    their own team — never to another team's people or up to leadership. The one rule for
    creating and for reassigning a CTA, whatever the path (API, forms, cockpit).
    """
    if new_owner.is_integration or not new_owner.is_active:
        return False
    if not user.is_authenticated or not user.is_active or user.is_integration:
        return False
    if user.is_org_wide or new_owner.pk in (user.pk, account.owner_id):
        return True
    teams = {account.team_id, user.team_id, holder.team_id if holder else None} - {None}
    return new_owner.team_id in teams


def can_assign_to(user: User, cta: Cta, new_owner: User) -> bool:
    """Hand a live CTA to someone: whoever works it, within ``can_assign``."""
    return can_work_cta(user, cta) and can_assign(
        user, account=cta.account, holder=cta.owner, new_owner=new_owner
    )
