"""Writes of the insights app: the executive summary's one-click responses and its weekly
e-mail. They call the CTA and escalation services, which write the audit trail."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse

from accounts.models import Account
from csrisk import clock
from csrisk.models import User
from csrisk.notifications import notify
from csrisk.roles import EXECUTIVE_ROLES, Role
from ctas.choices import LIVE_STATUSES
from ctas.models import Cta
from ctas.services import cta_create
from escalation import rules as escalation_rules
from escalation.services import escalation_escalate, escalation_open
from insights.predictions import PRIOR_NOTE
from insights.summary import RESPONSES, SIGNAL_LABELS, executive_summary
from sponsors.models import Sponsorship


def can_see_summary(user: User) -> bool:
    """The executive summary is for the VP, the CEO and executives."""
    return bool(
        user.is_authenticated
        and (user.is_superuser or user.role in EXECUTIVE_ROLES)
        and not user.is_integration
    )


@transaction.atomic
def summary_action_take(*, account: Account, signal: str, by: User, note: str = "") -> Cta:
    """Open the response that fits ``signal`` on ``account``: its CTA (the live one when it
    exists already, so a second click opens nothing new) and, where the response says so,
    an escalation at its level. The CTA and escalation services write the audit trail."""
    if not can_see_summary(by):
        raise PermissionDenied("The executive summary's actions are for leadership.")
    response = RESPONSES.get(signal)
    if response is None:
        raise ValidationError({"signal": f"Unknown signal {signal!r}."})
    reason = f"{SIGNAL_LABELS[signal]}: {response.label}"
    cta = (
        Cta.objects.filter(account=account, reason=reason, status__in=LIVE_STATUSES)
        .order_by("pk")
        .first()
    )
    if cta is None:
        owner = None
        if signal == "silent_sponsor":
            sponsorship = Sponsorship.objects.filter(account=account, ended_on=None).first()
            owner = sponsorship.sponsor if sponsorship else None
        cta = cta_create(
            account=account,
            by=by,
            reason=reason,
            type=response.cta_type,
            area=response.area,
            priority=response.priority,
            owner=owner,
            description="\n".join(filter(None, [note, response.suggest])),
        )
    if response.escalate_to:
        escalation = escalation_open(cta=cta, by=by, reason=reason)
        # An executive may not raise to level 2 (escalation's configuration): the
        # escalation stays at level 1, where its suggestions point the VP to it.
        if escalation.level < response.escalate_to <= escalation_rules.max_level_for(by):
            escalation_escalate(
                escalation=escalation, by=by, level=response.escalate_to, reason=reason
            )
    return cta


def summary_email_send(now: dt.datetime | None = None) -> int:
    """The weekly executive summary to the VP and the CEO, with a link back to the page.

    Sent through ``notify`` (in-app, then e-mail by the delivery task); the dedupe key is
    the ISO week, so a second run in the same week tells nobody twice.
    """
    now = now or clock.now()
    s = executive_summary(now)
    year, week, _ = now.isocalendar()
    lines = [
        f"Total ARR {s.total.total:,.0f}; at risk {s.total.at_risk:,.0f} "
        f"(red {s.total.red:,.0f}, yellow {s.total.yellow:,.0f}).",
        f"Change in ARR at risk: {_signed(s.total.change_30)} vs 30 days ago, "
        f"{_signed(s.total.change_90)} vs 90 days ago.",
        "Open escalations: " + ", ".join(f"level {e['level']}: {e['n']}" for e in s.escalations),
        f"Sponsor coverage: {s.coverage['percent']}% "
        f"({s.coverage['covered']} of {s.coverage['eligible']} eligible accounts).",
        f"Blind spots (green, danger underneath): {len(s.blind_spots)}.",
    ]
    if s.risk is not None and s.risk.n_scored:
        # Beside the colours, in dollars; the prior is named wherever its figures appear.
        source = f"; {PRIOR_NOTE}" if s.risk.prior else ""
        lines.insert(
            2,
            f"Expected ARR loss at renewal: {s.risk.total_expected_loss:,.0f} "
            f"({s.risk.n_scored} of {s.risk.n_live} accounts scored{source}).",
        )
    for b in s.blind_spots[:5]:
        lines.append(f"  - {b.account} ({b.arr:,.0f}): {b.sentence}, {b.on}")
    lines.append("Top actions:")
    for i, a in enumerate(s.actions[:5], start=1):
        stake = "" if a.expected_loss is None else f", expected loss {a.expected_loss:,.0f}"
        lines.append(f"  {i}. {a.account} ({a.arr:,.0f}{stake}): {a.sentence} → {a.response.label}")
    body = "\n".join(lines)
    sent = 0
    for user in User.objects.filter(is_active=True, role__in=[Role.VP_CS, Role.CEO]).order_by("pk"):
        if notify(
            user=user,
            kind="executive_summary",
            title=f"Executive summary, week {week}: {s.total.at_risk:,.0f} ARR at risk",
            body=body,
            url=reverse("summary:index"),
            dedupe_key=f"exec-summary:{year}-W{week:02d}:{user.pk}",
        ):
            sent += 1
    return sent


def _signed(value: object) -> str:
    return "no history yet" if value is None else f"{value:+,.0f}"
