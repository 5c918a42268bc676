"""Data coverage: which sources of facts have data for which accounts, and how to fill a gap.

Missing data is not risk (PRODUCT.md, "Renewal risk"): a scorecard area without data shows
"No data" instead of a colour. This is the other half: where the data is missing, book-wide,
so that someone connects the help desk or adds the decision maker. Each source is declared
once here (``SOURCES``); the account page, the coverage page and its CSV all read it.

A source "has data" for an account when a fact of it is on record within the source's
window (``days``; none: ever). The windows are those over which the scorecard measures read
a source by default (usage: twelve weeks; NPS/CSAT: six months; tickets: a year), so a
source silent that long is a gap even if it once had data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.choices import ContactRole, LifecycleStage
from accounts.models import (
    Account,
    Contact,
    Milestone,
    ReadinessAssessment,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from accounts.rules import changeable_accounts_q
from csrisk.models import User
from csrisk.roles import Role


@dataclass(frozen=True)
class Source:
    """One source of facts: what a gap in it means and how to fill it."""

    code: str
    label: str
    missing: str  # the gap, as a sentence
    fix: str  # how to fill it
    # The facts of this source that count as data for an account at ``now`` (OuterRef pk).
    facts: Callable[[dt.datetime], QuerySet]


def _since(days: int) -> Callable[[dt.datetime], dt.datetime]:
    return lambda now: now - dt.timedelta(days=days)


SOURCES: tuple[Source, ...] = (
    Source(
        "tickets",
        "Help desk tickets",
        "No help desk ticket in the last 12 months",
        "Connect the help desk (Zendesk or Jira webhook, or ticket signals) and set the "
        "account's help-desk org id.",
        lambda now: Ticket.objects.filter(opened_at__gte=_since(365)(now)),
    ),
    Source(
        "usage",
        "Product usage",
        "No usage figures in the last 12 weeks",
        "Send weekly usage signals (active and licensed users) for the account.",
        lambda now: UsageSnapshot.objects.filter(week__gte=_since(84)(now).date()),
    ),
    Source(
        "sentiment",
        "NPS / CSAT answers",
        "No NPS or CSAT answer in the last 6 months",
        "Survey the account's contacts (NPS or CSAT), or send their answers as sentiment signals.",
        lambda now: SentimentResponse.objects.filter(responded_at__gte=_since(180)(now)),
    ),
    Source(
        "contacts",
        "Contacts",
        "No contact on record",
        "Add the account's contacts (CSV import, the CRM webhook or the admin).",
        lambda now: Contact.objects.filter(at_company=True),
    ),
    Source(
        "decision_maker",
        "Executive Decision Maker",
        "No Executive Decision Maker on record",
        "Add the decision maker to the contacts with the role Executive Decision Maker.",
        # Roles are a JSON list: matched as text ('"edm"'), which SQLite and PostgreSQL
        # both answer (JSON ``contains`` is PostgreSQL only).
        lambda now: Contact.objects.filter(
            at_company=True, roles__icontains=f'"{ContactRole.EXECUTIVE_DECISION_MAKER}"'
        ),
    ),
    Source(
        "readiness",
        "Readiness assessment",
        "No readiness assessment on record",
        "Record a readiness assessment (data, skills, staffing) after the next call.",
        lambda now: ReadinessAssessment.objects.all(),
    ),
    Source(
        "milestones",
        "Implementation milestones",
        "No implementation milestone on record",
        "Add the implementation plan's milestones with their due dates.",
        lambda now: Milestone.objects.all(),
    ),
)
BY_CODE = {s.code: s for s in SOURCES}


def _annotated(accounts: QuerySet[Account], now: dt.datetime) -> QuerySet[Account]:
    """``accounts`` with a boolean ``has_<source>`` per source: one query for any number."""
    return accounts.annotate(
        **{f"has_{s.code}": Exists(s.facts(now).filter(account=OuterRef("pk"))) for s in SOURCES}
    )


@dataclass
class AccountCoverage:
    """One account's sources: those with data and those without."""

    account: Account
    present: list[Source]
    gaps: list[Source]


def account_coverage(account: Account, *, now: dt.datetime) -> AccountCoverage:
    """Which sources have data for this account (one query)."""
    row = _annotated(Account.objects.filter(pk=account.pk), now).values(
        *(f"has_{s.code}" for s in SOURCES)
    )[0]
    return AccountCoverage(
        account,
        [s for s in SOURCES if row[f"has_{s.code}"]],
        [s for s in SOURCES if not row[f"has_{s.code}"]],
    )


@dataclass
class SourceGap:
    """A source across a book: how many accounts and how much ARR lack it, and which."""

    source: Source
    accounts: list[Account] = field(default_factory=list)  # most ARR first
    arr: Decimal = Decimal(0)
    total: int = 0  # accounts in the book

    @property
    def count(self) -> int:
        return len(self.accounts)

    @property
    def covered(self) -> int:
        return self.total - self.count

    @property
    def percent_missing(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0


def coverage_scope_q(user: User) -> Q | None:
    """The accounts whose coverage ``user`` sees: their book (a CSM's accounts, a lead's
    teams, the whole book for the VP, the CEO and admins: ``rules.changeable_accounts_q``);
    None for people without a book (support, executives, API clients)."""
    if not user.is_authenticated or not user.is_active:
        return None
    if not (user.is_org_wide or user.role in (Role.CSM, Role.TEAM_LEAD)):
        return None
    return changeable_accounts_q(user)


def book_coverage(
    accounts: QuerySet[Account], *, now: dt.datetime, sources: Iterable[Source] = SOURCES
) -> list[SourceGap]:
    """Per source, the live (not churned) accounts of ``accounts`` without its data, most ARR
    first: one query for the whole book."""
    live = accounts.exclude(lifecycle_stage=LifecycleStage.CHURNED).select_related("owner")
    rows = list(_annotated(live, now).order_by("-arr", "name", "pk"))
    gaps = [SourceGap(s, total=len(rows)) for s in sources]
    for gap in gaps:
        gap.accounts = [a for a in rows if not getattr(a, f"has_{gap.source.code}")]
        gap.arr = sum((a.arr or Decimal(0) for a in gap.accounts), Decimal(0))
    return gaps
