"""Reactions to CTA events (see csrisk/events.py): flag → level 1, unflag/close → resolved,
comment → timeline and mention-to-escalate. They run inside the CTA's transaction."""

from __future__ import annotations

from functools import partial
from typing import Any

from csrisk import events, jobs
from csrisk.models import User
from ctas.models import Cta
from escalation.services import lane, levels, opening


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
    """The recompute keeps the VP's lane current: a change that can move a level-2 reason
    (overall or habits going into or out of red; any company change, the decision maker)
    re-reads that account, in the background where there is a worker."""
    area, old, new = event.get("area"), event.get("old"), event.get("new")
    crosses_red = (old == "red") != (new == "red")
    only = {"overall": "renewal_at_risk", "habits": "habits_red"}.get(area or "")
    if area == "company":
        only = "edm_changed"
    elif only is None or not crosses_red:
        return
    # One refresh per batch of changes (a recompute's), per rule: not a task per account.
    events.coalesce(("lane", only), partial(_refresh_lane, only), event["account_id"])


def _refresh_lane(only: str, account_ids: list[int]) -> None:
    ids = sorted(set(account_ids))
    for start in range(0, len(ids), lane.LANE_BATCH):
        chunk = ids[start : start + lane.LANE_BATCH]
        jobs.queue("escalation.tasks.lane_refresh_task", chunk, [only])


def on_accounts_changed(sender: Any, **event: Any) -> None:
    """A renewal date or a stage changed: re-read those accounts (many: the beat does)."""
    ids = event.get("account_ids")
    if ids and len(ids) <= lane.LANE_BATCH:
        jobs.queue("escalation.tasks.lane_refresh_task", list(ids))
