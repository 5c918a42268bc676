"""Reads of the book of business, shaped for the pages and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import (
    Account,
    CompetitorEvent,
    Contact,
    Milestone,
    PeopleChange,
    PriorRelationship,
    SentimentResponse,
    Ticket,
)
from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction


def account_list(*, user: User) -> QuerySet[Account]:
    """Accounts with what every list shows, in a fixed number of queries."""
    del user  # every internal person may read the whole book (see accounts.rules)
    return Account.objects.select_related("owner", "team").annotate(
        contact_count=Count("contacts", distinct=True),
    )


def account_detail(*, pk: int) -> Account:
    return (
        Account.objects.select_related("owner", "team", "team__lead")
        .prefetch_related(
            Prefetch(
                "contacts",
                queryset=Contact.objects.order_by("-at_company", "name").prefetch_related(
                    "title_changes"
                ),
            ),
            Prefetch(
                "prior_relationships",
                queryset=PriorRelationship.objects.select_related("person"),
            ),
            "renewals",
        )
        .get(pk=pk)
    )


# The facts a scorecard reason links to, by the ``type`` of its link (``measures.Refs``).
FACT_MODELS: dict[str, type[models.Model]] = {
    "ticket": Ticket,
    "sentiment": SentimentResponse,
    "people_change": PeopleChange,
    "competitor_event": CompetitorEvent,
    "milestone": Milestone,
}


@dataclass(frozen=True)
class FactLine:
    """One fact of an account as a timeline line: when, what kind, what it says, its link."""

    kind: str
    fact_id: int
    at: dt.datetime
    text: str
    source: str


def recent_facts(account_id: int, limit: int = 12) -> list[FactLine]:
    """The account's newest facts on record (tickets, survey answers, people changes,
    competitor activity), whatever brought them (an integration, a CSV, the demo seed): one
    query per kind, newest first."""
    lines: list[FactLine] = []
    for t in Ticket.objects.filter(account_id=account_id).order_by("-opened_at")[:limit]:
        subject = f": “{t.subject}”" if t.subject else ""
        lines.append(
            FactLine(
                "ticket",
                t.pk,
                t.opened_at,
                f"{t.get_priority_display()} {t.get_kind_display().lower()}, "
                f"{t.get_status_display().lower()}{subject}",
                t.source,
            )
        )
    for r in SentimentResponse.objects.filter(account_id=account_id).order_by("-responded_at")[
        :limit
    ]:
        said = f"NPS {r.nps}" if r.nps is not None else f"CSAT {r.csat}"
        lines.append(FactLine("sentiment", r.pk, r.responded_at, said, r.source))
    for c in (
        PeopleChange.objects.filter(account_id=account_id)
        .select_related("contact")
        .order_by("-occurred_at")[:limit]
    ):
        who = c.contact.name if c.contact_id else "A contact"
        title = f" → {c.new_title}" if c.new_title else ""
        lines.append(
            FactLine(
                "people_change",
                c.pk,
                c.occurred_at,
                f"{who}: {c.get_change_display().lower()}{title}",
                c.source,
            )
        )
    for e in CompetitorEvent.objects.filter(account_id=account_id).order_by("-occurred_at")[:limit]:
        text = f"{e.get_activity_display()} of {e.competitor}"
        lines.append(FactLine("competitor_event", e.pk, e.occurred_at, text, e.source))
    return sorted(lines, key=lambda f: f.at, reverse=True)[:limit]


def account_fact(*, account_id: int, kind: str, fact_id: int) -> models.Model:
    """One fact of an account (a ticket, an answer, a people change…) as a reason links to
    it; ``DoesNotExist`` for an unknown kind, or a fact of another account."""
    model = FACT_MODELS.get(kind)
    if model is None:
        raise ObjectDoesNotExist(f"No fact kind {kind!r}.")
    return model.objects.select_related("account").get(pk=fact_id, account_id=account_id)


def fact_rows(fact: models.Model) -> list[tuple[str, object]]:
    """(label, value) of each field of a fact but its id and account, choices displayed."""
    rows = []
    for field in fact._meta.fields:
        if field.name in ("id", "account"):
            continue
        if field.choices:
            value = getattr(fact, f"get_{field.name}_display")()
        elif field.is_relation:
            value = getattr(fact, field.name)
        else:
            value = getattr(fact, field.attname)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        rows.append((str(field.verbose_name).capitalize(), value))
    return rows


def owner_choices() -> QuerySet[User]:
    """People who can own accounts (CSMs and team leads), for filters and forms."""
    return User.objects.filter(
        Q(role=Role.CSM) | Q(role=Role.TEAM_LEAD), is_active=True
    ).select_related("team")


def cs_teams() -> QuerySet[Team]:
    return Team.objects.filter(function=TeamFunction.CS)
