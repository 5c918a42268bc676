"""What every CTA write shares: who may work a CTA, who leads its owner, where a
notification about it links."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from csrisk.models import User
from ctas.models import Cta
from ctas.rules import can_work_cta


def cta_url(cta: Cta) -> str:
    """Where a notification about the CTA links: its cockpit page."""
    return reverse("cockpit:cta", args=[cta.pk])


def check_can_work(user: User, cta: Cta) -> None:
    """Refuse (PermissionDenied) a user who may not work this CTA."""
    if not can_work_cta(user, cta):
        raise PermissionDenied("You may not work this CTA: it is another team's.")


def lead_of(user: User | None) -> User | None:
    """The lead of the user's team, unless that is the user."""
    if user is None or user.team_id is None:
        return None
    lead = user.team.lead if user.team else None
    return lead if lead and lead.pk != user.pk else None
