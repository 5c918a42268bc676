"""Reads for the sponsor program: eligibility, load and capacity, candidates, coverage."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet

from accounts.choices import ContactRole, LifecycleStage, Tier
from accounts.models import Account, Contact, PriorRelationship
from csrisk.models import User
from csrisk.roles import Role
from ctas.choices import LIVE_STATUSES
from ctas.models import Playbook
from sponsors.models import HelpRequest, Program, SponsorProfile, Sponsorship

CHECKIN_QUESTIONS = [
    "How is it going?",
    "What is going well?",
    "What is going badly?",
    "Are we on track to the goals you bought us for?",
    "Any feedback for us?",
]


def eligible(program: Program) -> QuerySet[Account]:
    """Accounts of a sponsor tier at or above that tier's ARR threshold (not churned)."""
    return Account.objects.filter(
        Q(tier=Tier.ENTERPRISE, arr__gte=program.enterprise_min_arr)
        | Q(tier=Tier.STRATEGIC, arr__gte=program.strategic_min_arr)
    ).exclude(lifecycle_stage=LifecycleStage.CHURNED)


@dataclass
class Load:
    sponsor: User
    capacity: Decimal
    calls: Decimal = Decimal(0)
    accounts: list[Account] = field(default_factory=list)
    help_requests: int = 0

    @property
    def over(self) -> bool:
        return self.calls > self.capacity

    @property
    def free(self) -> Decimal:
        return self.capacity - self.calls

    @property
    def percent(self) -> int:
        return int(self.calls / self.capacity * 100) if self.capacity else 100

    @classmethod
    def empty(cls, sponsor: User, program: Program) -> Load:
        profile = getattr(sponsor, "sponsor_profile", None)
        capacity = (
            profile.capacity_calls_per_week
            if profile is not None and profile.capacity_calls_per_week is not None
            else program.capacity_calls_per_week
        )
        return cls(sponsor=sponsor, capacity=capacity)


def sponsors() -> QuerySet[User]:
    """Who may sponsor: executives (and the VP and CEO) not switched off in their profile."""
    return (
        User.objects.filter(is_active=True, role__in=[Role.EXECUTIVE, Role.VP_CS, Role.CEO])
        .exclude(sponsor_profile__active=False)
        .select_related("sponsor_profile")
        .order_by("first_name", "username")
    )


def loads(program: Program) -> dict[int, Load]:
    """Each sponsor's load in calls a week: their accounts' cadences plus open help requests."""
    result = {u.pk: Load.empty(u, program) for u in sponsors()}
    for s in Sponsorship.objects.filter(ended_on=None).select_related(
        "account", "sponsor__sponsor_profile"
    ):
        load = result.setdefault(s.sponsor_id, Load.empty(s.sponsor, program))
        load.calls += program.calls_per_week(s.account.tier)
        load.accounts.append(s.account)
    for request in HelpRequest.objects.filter(
        cta__status__in=LIVE_STATUSES, sponsorship__ended_on=None
    ).select_related("sponsorship__sponsor__sponsor_profile"):
        sponsor = request.sponsorship.sponsor
        load = result.setdefault(sponsor.pk, Load.empty(sponsor, program))
        load.calls += program.help_request_calls
        load.help_requests += 1
    for load in result.values():
        load.calls = load.calls.quantize(Decimal("0.01"))
    return result


@dataclass
class Candidate:
    sponsor: User
    load: Load
    relationship: str
    fit: list[str]
    rank: int = 0

    @property
    def reasons(self) -> list[str]:
        why = []
        if self.relationship:
            why.append(self.relationship)
        why.extend(self.fit)
        why.append(
            f"{self.load.free:.2f} of {self.load.capacity:.2f} calls a week free"
            if not self.load.over
            else f"over capacity ({self.load.calls:.2f} of {self.load.capacity:.2f})"
        )
        return why


def candidates(
    account: Account,
    program: Program,
    limit: int = 8,
    all_loads: dict[int, Load] | None = None,
    people: list[User] | None = None,
) -> list[Candidate]:
    """Ranked: prior relationship first, then fit (segment, industry), then free capacity.
    ``all_loads`` and ``people`` may be passed in, loaded once for many accounts."""
    all_loads = all_loads if all_loads is not None else loads(program)
    ties = {
        # a note is a sentence of its own ("The CEO knows their CEO."): no "..", no ".;"
        r.person_id: f"{r.get_kind_display()}" + (f" — {r.note.rstrip('. ')}" if r.note else "")
        for r in PriorRelationship.objects.filter(account=account)
    }
    current = Sponsorship.objects.filter(account=account, ended_on=None).first()
    result = []
    for sponsor in people if people is not None else sponsors():
        if current is not None and current.sponsor_id == sponsor.pk:
            continue
        profile: SponsorProfile | None = getattr(sponsor, "sponsor_profile", None)
        fit = []
        if profile is not None:
            if account.segment in (profile.segments or []):
                fit.append(f"knows the {account.get_segment_display()} segment")
            if account.industry and account.industry.lower() in [
                i.lower() for i in profile.industries or []
            ]:
                fit.append(f"knows {account.industry}")
        load = all_loads.get(sponsor.pk, Load.empty(sponsor, program))
        result.append(Candidate(sponsor, load, ties.get(sponsor.pk, ""), fit))
    result.sort(key=lambda c: (not c.relationship, -len(c.fit), -c.load.free, c.sponsor.pk))
    for i, c in enumerate(result, start=1):
        c.rank = i
    return result[:limit]


@dataclass
class Coverage:
    eligible: int
    covered: int
    uncovered: list[Account]

    @property
    def percent(self) -> int:
        return int(self.covered / self.eligible * 100) if self.eligible else 100


def coverage(program: Program) -> Coverage:
    accounts = list(eligible(program).select_related("owner").order_by("-arr", "name"))
    sponsored = set(
        Sponsorship.objects.filter(ended_on=None, account__in=[a.pk for a in accounts]).values_list(
            "account_id", flat=True
        )
    )
    uncovered = [a for a in accounts if a.pk not in sponsored]
    return Coverage(len(accounts), len(accounts) - len(uncovered), uncovered)


def edm_contact(account: Account) -> Contact | None:
    """The contact the sponsor writes to: the Executive Decision Maker still at the company."""
    for contact in Contact.objects.filter(account=account, at_company=True).order_by("pk"):
        if ContactRole.EXECUTIVE_DECISION_MAKER in (contact.roles or []):
            return contact
    return None


def checkin_questions(playbook: Playbook | None) -> list[str]:
    """The check-in playbook's questions (one per line of a step's guidance), else the five
    of PRODUCT.md."""
    if playbook is not None:
        lines = [
            line.strip(" -•\t")
            for step in playbook.steps.all()
            for line in step.guidance.splitlines()
            if line.strip().endswith("?")
        ]
        if lines:
            return lines
    return list(CHECKIN_QUESTIONS)
