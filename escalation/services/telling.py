"""Who is told about an escalation step: the people involved as the level implies.

The CTA's owner and their team lead are always involved; the VP from level 2 and the CEO
at level 3 (whoever ``rules.level_people`` names there). A step is told to everyone
involved up to the highest level it touches — a de-escalation from 3 still tells the CEO,
the resolution of a level-3 escalation tells the VP and the CEO — except its actor. Each
notice is stored in the step's transaction and delivered after the commit; its dedupe key
names the event and the person, so a retried step never tells anyone twice.
"""

from __future__ import annotations

from django.db import transaction

from csrisk.models import User
from csrisk.notifications import notify
from escalation import rules
from escalation.models import Escalation
from escalation.services.timeline import escalation_url


def involved(escalation: Escalation, up_to: int) -> list[User]:
    """The CTA owner, their team lead and the people at levels 2..``up_to``."""
    cta = escalation.cta
    owner = cta.owner
    lead = owner.team.lead if owner is not None and owner.team_id else None
    people: dict[int, User] = {}
    for person in (owner, lead):
        if person is not None and person.is_active:
            people.setdefault(person.pk, person)
    config = rules.levels()
    for level in range(1, up_to + 1):
        for person in rules.level_people(level, cta, config):
            people.setdefault(person.pk, person)
    return list(people.values())


def tell(
    escalation: Escalation,
    by: User | None,
    *,
    kind: str,
    event: str,
    up_to: int,
    title: str,
    body: str,
) -> None:
    """Queue one notice per involved person (not the actor) after the commit. ``event``
    names this step uniquely (e.g. ``resolved:<step id>``)."""
    for person in involved(escalation, up_to):
        if by is not None and person.pk == by.pk:
            continue
        transaction.on_commit(
            lambda person=person: notify(
                user=person,
                kind=kind,
                title=title,
                body=body,
                url=escalation_url(escalation),
                dedupe_key=f"esc-{event}:{escalation.pk}:{person.pk}",
            )
        )
