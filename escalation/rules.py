"""Who sits at each level, and who may escalate, acknowledge, de-escalate and resolve."""

from __future__ import annotations

from csrisk.models import User
from csrisk.roles import Role
from ctas.models import Cta
from ctas.rules import can_work_cta
from escalation.models import Escalation, EscalationLevel, Meeting


def levels() -> dict[int, EscalationLevel]:
    return {lv.level: lv for lv in EscalationLevel.objects.prefetch_related("people")}


def level_people(
    level: int, cta: Cta, config: dict[int, EscalationLevel] | None = None
) -> list[User]:
    """The people who sit at ``level`` for this CTA (named people, else by role; level 1
    by role is the CTA owner's team lead)."""
    config = config if config is not None else levels()
    lv = config.get(level)
    if lv is None:
        return []
    named = [p for p in lv.people.all() if p.is_active]
    if named:
        return named
    if lv.role == Role.TEAM_LEAD:
        owner = cta.owner
        lead = owner.team.lead if owner and owner.team_id and owner.team else None
        return [lead] if lead and lead.is_active else []
    return list(User.objects.filter(role=lv.role, is_active=True).order_by("pk"))


def level_of(user: User, cta: Cta, config: dict[int, EscalationLevel] | None = None) -> int:
    """The highest level ``user`` sits at for this CTA (0: none)."""
    config = config if config is not None else levels()
    return max(
        (lv for lv in config if user in level_people(lv, cta, config)),
        default=0,
    )


def max_level_for(user: User, config: dict[int, EscalationLevel] | None = None) -> int:
    """The highest level ``user`` may escalate a CTA to (configuration: raised_by_roles)."""
    config = config if config is not None else levels()
    if user.is_superuser:
        return max(config, default=1)
    return max((lv.level for lv in config.values() if user.role in lv.raised_by_roles), default=1)


def raised_by_sentence(level: int, allowed: int) -> str:
    """Why someone whose reach is ``allowed`` may not raise ``level`` (who may, by config)."""
    config = levels().get(level)
    roles = config.raised_by_roles if config else []
    who = ", ".join(Role(r).label if r in Role.values else r for r in roles) or "nobody"
    reach = (
        f"you may escalate up to level {allowed}"
        if allowed > 1
        else "ask your team lead in the chatter"
    )
    return f"Level {level} is raised by: {who} (escalation configuration); {reach}."


def can_escalate(user: User, escalation: Escalation, to_level: int) -> bool:
    if not user.is_active or user.is_integration or not escalation.is_open:
        return False
    if to_level <= escalation.level:
        return False
    involved = can_work_cta(user, escalation.cta) or level_of(user, escalation.cta) > 0
    return involved and to_level <= max_level_for(user)


def can_de_escalate(user: User, escalation: Escalation) -> bool:
    """The people at the current level (or above) hand it back down."""
    if not user.is_active or user.is_integration or not escalation.is_open:
        return False
    if escalation.level <= 1:
        return False
    return (
        user.is_superuser or user.is_org_wide or level_of(user, escalation.cta) >= escalation.level
    )


def can_acknowledge(user: User, escalation: Escalation) -> bool:
    if not user.is_active or user.is_integration or not escalation.is_open:
        return False
    if escalation.acknowledged_at is not None:
        return False
    return (
        user.is_superuser
        or level_of(user, escalation.cta) >= escalation.level
        or (user.is_org_wide and escalation.level <= 2)
    )


def can_resolve(user: User, escalation: Escalation) -> bool:
    """Whoever works the CTA (owner, their lead, VP, CEO): resolving also unflags it."""
    if not escalation.is_open:
        return False
    return can_work_cta(user, escalation.cta)


def can_review_agenda(user: User, meeting: Meeting) -> bool:
    """The room: attendees, the team that runs it, team leads, the VP and the CEO."""
    if not user.is_active or user.is_integration:
        return False
    if user.is_superuser or user.is_org_wide or user.role == Role.TEAM_LEAD:
        return True
    if meeting.team_id is not None and user.team_id == meeting.team_id:
        return True
    return meeting.attendees.filter(pk=user.pk).exists()
