"""The demo's escalations: every flagged demo CTA at level 1, routed like a real flag,
plus one walk up the chain for csm1's book (lead1 → vp → ceo) so each demo login has
something at their level. Bulk writes: a 20,000-account book flags about a thousand CTAs.
"""

from __future__ import annotations

import datetime as dt

from accounts.models import PriorRelationship
from csrisk import clock
from csrisk.models import User
from ctas.choices import LIVE_STATUSES
from ctas.models import Cta
from escalation import rules
from escalation.choices import Level, StepAction
from escalation.models import Escalation, EscalationStep, Meeting
from escalation.services import deadlines, lane, levels, opening, routing, suggestions
from scorecards.models import Area

STORY_CHECKED = 300  # suggestions are looked for at once on this many; the sweep does the rest


def build_demo_escalations(*, full: bool = True) -> int:
    """``full``: also look for suggestions and chase deadlines now (small books); a big
    book leaves that to the beat's sweep."""
    now = clock.now()
    config = rules.levels()
    flagged = list(
        Cta.objects.filter(flagged=True, status__in=LIVE_STATUSES)
        .exclude(escalations__status="open")
        .select_related("account", "owner__team__lead", "flagged_by")
        .order_by("flagged_at", "pk")
    )
    areas = {a.code: a for a in Area.objects.select_related("owning_team")}
    meetings = list(Meeting.objects.filter(active=True))
    escalations = []
    for cta in flagged:
        opened = cta.flagged_at or now
        escalations.append(
            Escalation(
                cta=cta,
                account=cta.account,
                level=Level.TEAM,
                reason=cta.flag_reason or cta.reason,
                opened_by=cta.flagged_by,
                opened_at=opened,
                level_since=opened,
                deadline_at=clock.add_business_days(
                    opened, float(config[Level.TEAM].ack_business_days)
                ),
                routes=routing.routes_for(cta, areas=areas, meetings=meetings),
            )
        )
    Escalation.objects.bulk_create(escalations, batch_size=1000)
    EscalationStep.objects.bulk_create(
        [
            EscalationStep(
                escalation=e,
                at=e.opened_at,
                by=e.opened_by,
                action=StepAction.OPENED,
                to_level=Level.TEAM,
                reason=e.reason,
            )
            for e in escalations
        ],
        batch_size=1000,
    )
    # Routed like a real flag: the live queues and the area's department are told, so
    # support1 finds the Support flags among their notifications.
    for escalation in escalations:
        opening.tell_routed(escalation, escalation.opened_by)
    _story(escalations)
    if not full:
        return len(escalations)
    for escalation in escalations[:STORY_CHECKED]:
        suggestions.suggestions_refresh(escalation)
    lane.lane_refresh_all()  # the VP's lane, every live account (flagged or not)
    # Deadlines already missed are chased now, so the demo starts settled (reminders,
    # automatic moves up) instead of changing under the first visitor five minutes in.
    deadlines.sweep()
    return len(escalations)


def _story(escalations: list[Escalation]) -> None:
    """csm1's oldest flag went to the VP (acknowledged); the one where the CEO knows the
    customer went on to the CEO; a third waits at level 1 past its deadline."""
    people = {u.username: u for u in User.objects.filter(username__in=["lead1", "vp", "ceo"])}
    if len(people) < 3:
        return
    mine = [e for e in escalations if e.cta.owner.username == "csm1"]
    if not mine:
        return
    ceo_knows = set(
        PriorRelationship.objects.filter(
            person=people["ceo"], account__in=[e.account_id for e in mine]
        ).values_list("account_id", flat=True)
    )
    to_ceo = next((e for e in mine if e.account_id in ceo_knows), None)
    if to_ceo is None and len(mine) > 1:
        # The story needs one customer the CEO knows (recorded on the account, as a CSM
        # would record it); the oldest of csm1's flags is it.
        to_ceo = mine[0]
        PriorRelationship.objects.get_or_create(
            account=to_ceo.account,
            person=people["ceo"],
            defaults={"kind": "personal", "note": "Knows their CEO from a previous company"},
        )
    to_vp = next((e for e in mine if e is not to_ceo), None)
    now = clock.now()

    def between(escalation: Escalation, share: float) -> dt.datetime:
        """A moment ``share`` of the way from the flag to now, so steps keep their order."""
        return escalation.opened_at + (now - escalation.opened_at) * share

    for escalation in [e for e in (to_vp, to_ceo) if e is not None]:
        with clock.frozen(between(escalation, 0.3)):
            levels.escalation_escalate(
                escalation=escalation,
                by=people["lead1"],
                level=Level.VP,
                reason="Renewal is close and their sponsor went quiet; VP call needed.",
            )
        with clock.frozen(between(escalation, 0.4)):
            levels.escalation_acknowledge(
                escalation=escalation, by=people["vp"], note="I will call their COO this week."
            )
    if to_ceo is not None:
        with clock.frozen(between(to_ceo, 0.7)):
            suggestions.suggestions_refresh(to_ceo)
            suggestion = to_ceo.suggestions.filter(rule="ceo_relationship").first()
            if suggestion is not None:
                suggestions.suggestion_accept(suggestion=suggestion, by=people["vp"])
