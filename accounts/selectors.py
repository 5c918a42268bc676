"""Reads of the book of business, shaped for the pages and the API."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from accounts.models import Account, Contact, PriorRelationship
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


def owner_choices() -> QuerySet[User]:
    """People who can own accounts (CSMs and team leads), for filters and forms."""
    return User.objects.filter(
        Q(role=Role.CSM) | Q(role=Role.TEAM_LEAD), is_active=True
    ).select_related("team")


def cs_teams() -> QuerySet[Team]:
    return Team.objects.filter(function=TeamFunction.CS)
