"""Reactions to CTA events (see csrisk/events.py): flag → level 1, unflag/close → resolved,
comment → timeline and mention-to-escalate. They run inside the CTA's transaction."""

from __future__ import annotations

from typing import Any

from csrisk.models import User
from ctas.models import Cta
from escalation.services import lane, levels, opening

# Colour changes that can change a level-2 reason (overall: renewal at risk; habits; company:
# the decision maker gone).
LANE_AREAS = frozenset({"overall", "habits", "company"})


def on_cta_flagged(sender: Any, **event: Any) -> None:
    cta = Cta.objects.select_related("account", "owner__team__lead").get(pk=event["cta_id"])
    by = User.objects.filter(pk=event["by_id"]).first()
    opening.escalation_open(cta=cta, by=by, reason=event.get("reason", ""))


def on_cta_released(sender: Any, **event: Any) -> None:
    cta = Cta.objects.get(pk=event["cta_id"])
    by = User.objects.filter(pk=event["by_id"]).first()
    levels.escalation_release(cta=cta, by=by, reason=event.get("reason", ""))


def on_comment_added(sender: Any, **event: Any) -> None:
    cta = Cta.objects.select_related("account", "owner__team__lead").get(pk=event["cta_id"])
    by = User.objects.get(pk=event["by_id"])
    mentioned = list(User.objects.filter(pk__in=event.get("mentioned_ids", [])))
    from ctas.models import Comment

    body = Comment.objects.filter(pk=event["comment_id"]).values_list("body", flat=True).first()
    levels.escalation_commented(cta=cta, by=by, body=body or "", mentioned=mentioned)


def on_color_changed(sender: Any, **event: Any) -> None:
    """The recompute keeps the VP's lane current: a colour change re-reads that account."""
    if event.get("area") in LANE_AREAS:
        lane.lane_refresh([event["account_id"]])


def on_accounts_changed(sender: Any, **event: Any) -> None:
    """A renewal date or a stage changed: re-read those accounts (many: the beat does)."""
    ids = event.get("account_ids")
    if ids and len(ids) <= lane.LANE_BATCH:
        lane.lane_refresh(list(ids))
