"""Writes for CTAs, one module per concept. Every state change is race-safe (a conditional
UPDATE), audited, and updates the account's scorecard at once through
``scorecards.services.cta_pressures_set`` (``scorecard``).

- ``creation`` — ``cta_create``, ``rule_ctas_open`` (many rule CTAs at once);
  ``playbooks`` — the tasks a playbook adds;
- ``transitions`` — flag, unflag, close, snooze, start, reassign, update, wake snoozed;
- ``chatter`` — ``comment_add`` and @mentions; ``cta_tasks`` — a CTA's own tasks;
- ``alerts`` — overdue CTAs and an account turning red or leaving red;
- ``common`` — who may work a CTA, who leads its owner, its link.

The names below are re-exported so ``from ctas.services import cta_create`` keeps working;
inside the package, import from the concept module.
"""

from ctas.services.alerts import alert_color_change, alert_overdue
from ctas.services.chatter import MENTION, comment_add
from ctas.services.creation import DUE_DAYS, RuleCta, cta_create, rule_ctas_open
from ctas.services.cta_tasks import task_add, task_complete, task_reassign
from ctas.services.playbooks import playbook_apply, playbook_tasks
from ctas.services.scorecard import sync_scorecard, sync_scorecards
from ctas.services.transitions import (
    cta_close,
    cta_flag,
    cta_reassign,
    cta_snooze,
    cta_start,
    cta_unflag,
    cta_update,
    wake_snoozed,
)

__all__ = [
    "DUE_DAYS",
    "MENTION",
    "RuleCta",
    "alert_color_change",
    "alert_overdue",
    "comment_add",
    "cta_close",
    "cta_create",
    "cta_flag",
    "cta_reassign",
    "cta_snooze",
    "cta_start",
    "cta_unflag",
    "cta_update",
    "playbook_apply",
    "playbook_tasks",
    "rule_ctas_open",
    "sync_scorecard",
    "sync_scorecards",
    "task_add",
    "task_complete",
    "task_reassign",
    "wake_snoozed",
]
