"""Writes for the escalation chain (PRODUCT.md, "Escalation: flag first, then levels").

Flagging a CTA opens an escalation at level 1 (``opening.escalation_open``, called by the
receiver of ``events.cta_flagged`` inside the flag's transaction) and routes it
(``routing``): the owner's team lead (ctas tells them), the meeting or live queue of the
team that owns the area (RACI), and the CS team meeting when the account renews soon. From
there people escalate to level 2 (VP) and 3 (CEO), de-escalate, acknowledge and resolve
(``levels``), and every step is told to the people involved (``telling``); csrisk
suggests going higher (``suggestions``), and lists every account that wants the VP in the
VP's lane (``lane``); the sweeper reminds and moves up late levels (``deadlines``);
meetings record their outcomes (``agendas``). Every step is
on the timeline (``EscalationStep``) and in the audit log (``timeline.record_step``).

The names below are re-exported so ``from escalation.services import escalation_open``
keeps working; inside the package, import from the concept module.
"""

from escalation.services.agendas import agenda_review
from escalation.services.deadlines import SUGGESTION_RECHECK, SWEEP_BATCH, sweep
from escalation.services.levels import (
    escalation_acknowledge,
    escalation_commented,
    escalation_de_escalate,
    escalation_escalate,
    escalation_release,
    escalation_resolve,
)
from escalation.services.opening import escalation_open
from escalation.services.routing import routes_for
from escalation.services.suggestions import (
    suggestion_accept,
    suggestion_dismiss,
    suggestion_reasons,
    suggestions_refresh,
)
from escalation.services.timeline import TOP

__all__ = [
    "SUGGESTION_RECHECK",
    "SWEEP_BATCH",
    "TOP",
    "agenda_review",
    "escalation_acknowledge",
    "escalation_commented",
    "escalation_de_escalate",
    "escalation_escalate",
    "escalation_open",
    "escalation_release",
    "escalation_resolve",
    "routes_for",
    "suggestion_accept",
    "suggestion_dismiss",
    "suggestion_reasons",
    "suggestions_refresh",
    "sweep",
]
