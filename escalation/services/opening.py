"""Flag → level 1: ``escalation_open``, called by the receiver of ``events.cta_flagged`` inside
the flag's transaction, routes the CTA and tells a live queue's people at once."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.urls import reverse

from csrisk import clock
from csrisk.models import User
from csrisk.notifications import notify
from ctas.models import Cta
from escalation import rules
from escalation.choices import EscalationStatus, Level, StepAction
from escalation.models import Escalation, Meeting
from escalation.services.routing import queue_people, routes_for
from escalation.services.suggestions import suggestions_refresh
from escalation.services.timeline import ack_deadline, escalation_url, record_step
from scorecards import raci


@transaction.atomic
def escalation_open(*, cta: Cta, by: User | None, reason: str) -> Escalation:
    """Level 1 for a flagged CTA (the open one if it has one already)."""
    existing = Escalation.objects.filter(cta=cta, status=EscalationStatus.OPEN).first()
    if existing is not None:
        return existing
    config = rules.levels()
    now = clock.now()
    cta = Cta.objects.select_related("account", "owner__team__lead").get(pk=cta.pk)
    escalation = Escalation(
        cta=cta,
        account=cta.account,
        level=Level.TEAM,
        reason=reason or cta.flag_reason or cta.reason,
        opened_by=by,
        opened_at=now,
        level_since=now,
        deadline_at=ack_deadline(Level.TEAM, now, config),
        routes=routes_for(cta),
    )
    try:
        with transaction.atomic():
            escalation.save()
    except IntegrityError:  # a concurrent flag (or the sweeper) opened it first
        return Escalation.objects.get(cta=cta, status=EscalationStatus.OPEN)
    record_step(escalation, by, StepAction.OPENED, to_level=Level.TEAM, reason=escalation.reason)
    tell_routed(escalation, by)
    suggestions_refresh(escalation)
    return escalation


def tell_routed(escalation: Escalation, by: User | None) -> None:
    """Tell a flagged CTA's live queues and the department owning its area (RACI) at once:
    each person once (one dedupe key per escalation and person), never the flagger."""
    cta = escalation.cta
    told: dict[int, tuple[User, str, str]] = {}
    for route in escalation.routes:
        if route["kind"] != "queue":
            continue
        meeting = Meeting.objects.filter(pk=route["id"]).first()
        for person in queue_people(meeting) if meeting else []:
            told.setdefault(person.pk, (person, meeting.name, escalation_url(escalation)))
    if cta.area:
        queue = reverse("cockpit:queue")
        for person in raci.area_team_people(cta.area):
            name = f"the {cta.get_area_display()} queue"
            told.setdefault(person.pk, (person, name, queue))
    for person, where, url in told.values():
        if by is not None and person.pk == by.pk:
            continue
        transaction.on_commit(
            lambda person=person, where=where, url=url: notify(
                user=person,
                kind="escalation_queue",
                title=f"Flagged in {where}: {cta.account.name} — {cta.reason}",
                body=escalation.reason,
                url=url,
                dedupe_key=f"esc-queue:{escalation.pk}:{person.pk}",
            )
        )
