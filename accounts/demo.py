"""The demo book: a deterministic, believable customer base for trying csrisk.

Given the same seed, account count and history length, and the same day, it produces the
same book (dates are relative to today so renewals stay in the next 12 months). It is a
demo, not evidence: nothing here is arranged to make any signal look predictive. Later
capabilities (signals, sponsors, CTAs) add their history through ``seed_demo`` as well.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from accounts.choices import (
    ContactRole,
    LifecycleStage,
    RelationshipKind,
    RenewalOutcomeKind,
    Segment,
    Tier,
)
from accounts.demo_activity import WARMUP_DAYS, build_activity, people_story, simulate
from accounts.models import Account, Contact, PriorRelationship, RenewalOutcome
from csrisk import clock
from csrisk.db import analyze, insert_rows
from csrisk.models import Team, User
from csrisk.roles import Role, TeamFunction

DEMO_PASSWORD = "demo"
CRM_PREFIX = "DEMO-"
BATCH = 2000

_PREFIXES = [
    "Acme",
    "Northwind",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Pied",
    "Aperture",
    "Gringotts",
    "Monarch",
    "Oscorp",
    "Duff",
    "Dunder",
    "Prestige",
    "Sterling",
    "Blue",
    "Green",
    "Silver",
    "Golden",
    "Iron",
    "Cobalt",
    "Crimson",
    "Amber",
    "Polar",
    "Summit",
    "Harbor",
    "Pioneer",
    "Vertex",
    "Nimbus",
    "Atlas",
    "Orion",
    "Helix",
    "Quantum",
    "Lumen",
    "Cascade",
    "Evergreen",
    "Redwood",
    "Granite",
    "Beacon",
    "Meridian",
    "Horizon",
    "Zenith",
]
_SUFFIXES = [
    "Logistics",
    "Health",
    "Bank",
    "Foods",
    "Energy",
    "Labs",
    "Systems",
    "Retail",
    "Media",
    "Insurance",
    "Robotics",
    "Capital",
    "Pharma",
    "Motors",
    "Airlines",
    "Telecom",
    "Analytics",
    "Software",
    "Hotels",
    "Education",
    "Freight",
    "Textiles",
    "Mining",
    "Biotech",
    "Security",
    "Realty",
    "Partners",
    "Networks",
    "Studios",
    "Dynamics",
]
_INDUSTRIES = (
    "Financial services",
    "Healthcare",
    "Retail",
    "Manufacturing",
    "Software",
    "Logistics",
    "Media",
    "Education",
    "Energy",
    "Public sector",
)
_FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Dan",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kara",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Victor",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Amir",
    "Bea",
    "Carlos",
    "Dana",
    "Emil",
    "Fatima",
]
_LAST = [
    "Adams",
    "Brown",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hansen",
    "Ito",
    "Jones",
    "Kim",
    "Lopez",
    "Muller",
    "Nguyen",
    "Okafor",
    "Patel",
    "Quist",
    "Rossi",
    "Silva",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zhou",
]
_EDM_TITLES = ("CEO", "COO", "CFO", "CIO", "CTO", "VP Operations", "Chief Customer Officer")
_CHAMPION_TITLES = (
    "Head of Operations",
    "Director of IT",
    "Head of Customer Operations",
    "VP Engineering",
    "Director of Analytics",
)
_OTHER_TITLES = (
    "Operations Manager",
    "Systems Administrator",
    "Analyst",
    "Team Lead",
    "Procurement Manager",
    "Data Engineer",
    "Support Manager",
)
# (segment, share of the book, median ARR)
_SEGMENTS = (
    (Segment.SMB, 0.35, 14_000),
    (Segment.MID_MARKET, 0.40, 55_000),
    (Segment.ENTERPRISE, 0.18, 220_000),
    (Segment.STRATEGIC, 0.07, 850_000),
)

# The CONTRACT's demo logins; everyone shares the password "demo".
DEMO_LOGINS = (
    ("csm1", "a CSM"),
    ("lead1", "team lead of csm1"),
    ("vp", "VP of Customer Success"),
    ("ceo", "CEO"),
    ("exec1", "an executive sponsor"),
    ("support1", "support team"),
    ("admin", "superuser"),
)


@dataclass
class DemoSummary:
    accounts: int
    contacts: int
    users: int
    teams: int
    renewals: int
    activity: dict[str, int]


def _people(rng: random.Random, n_accounts: int, password: str) -> dict[str, object]:
    """Create teams and internal people; return what the book needs to refer to."""
    n_csms = max(9, math.ceil(n_accounts / 35))
    n_teams = max(3, math.ceil(n_csms / 8))
    users: list[User] = []

    def person(username: str, first: str, last: str, role: str, **extra: object) -> User:
        user = User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@csrisk.example",
            role=role,
            password=password,
            **extra,
        )
        users.append(user)
        return user

    leadership = Team.objects.create(name="Leadership", function=TeamFunction.LEADERSHIP)
    departments = {
        fn: Team.objects.create(name=label, function=fn)
        for fn, label in (
            (TeamFunction.SUPPORT, "Support"),
            (TeamFunction.SERVICES, "Services"),
            (TeamFunction.READINESS, "Readiness"),
            (TeamFunction.PRODUCT, "Product"),
            (TeamFunction.ENGINEERING, "Engineering"),
        )
    }
    person(
        "admin",
        "Ada",
        "Admin",
        Role.EXECUTIVE,
        is_staff=True,
        is_superuser=True,
        title="Administrator",
    )
    ceo = person(
        "ceo", "Carmen", "Ortiz", Role.CEO, team=leadership, title="Chief Executive Officer"
    )
    vp = person(
        "vp",
        "Victor",
        "Hale",
        Role.VP_CS,
        team=leadership,
        title="VP of Customer Success",
        is_staff=True,
    )
    execs = [
        person(
            f"exec{i}",
            rng.choice(_FIRST),
            rng.choice(_LAST),
            Role.EXECUTIVE,
            team=leadership,
            title=title,
        )
        for i, title in enumerate(
            (
                "Chief Revenue Officer",
                "Chief Product Officer",
                "CTO",
                "CFO",
                "VP Sales",
                "VP Engineering",
            ),
            start=1,
        )
    ]
    for fn, team in departments.items():
        for j in (1, 2):
            role = {
                TeamFunction.SUPPORT: Role.SUPPORT,
                TeamFunction.SERVICES: Role.SERVICES,
                TeamFunction.READINESS: Role.READINESS,
                TeamFunction.PRODUCT: Role.PRODUCT,
                TeamFunction.ENGINEERING: Role.ENGINEERING,
            }[fn]
            person(
                f"{fn}{j}",
                rng.choice(_FIRST),
                rng.choice(_LAST),
                role,
                team=team,
                title=f"{team.name} {'Manager' if j == 1 else 'Specialist'}",
            )
    regions = ("East", "West", "Central", "North", "South", "Global", "EMEA", "APAC")
    cs_teams = [
        Team.objects.create(
            name=f"CS {regions[i % len(regions)]}"
            + (f" {i // len(regions) + 1}" if i >= len(regions) else "")
        )
        for i in range(n_teams)
    ]
    leads = [
        person(
            f"lead{i + 1}",
            rng.choice(_FIRST),
            rng.choice(_LAST),
            Role.TEAM_LEAD,
            team=team,
            title="CS Team Lead",
        )
        for i, team in enumerate(cs_teams)
    ]
    csms = [
        person(
            f"csm{i + 1}",
            rng.choice(_FIRST),
            rng.choice(_LAST),
            Role.CSM,
            team=cs_teams[i % n_teams],
            title="Customer Success Manager",
        )
        for i in range(n_csms)
    ]
    person("integration", "Signal", "Integration", Role.INTEGRATION, title="API client")
    User.objects.bulk_create(users, batch_size=BATCH)
    # bulk_create sets primary keys on PostgreSQL and SQLite; link the leads to their teams.
    for team, lead in zip(cs_teams, leads, strict=True):
        team.lead = lead
    Team.objects.bulk_update(cs_teams, ["lead"])
    leadership.lead = ceo
    leadership.save(update_fields=["lead"])
    integration = next(u for u in users if u.username == "integration")
    integration.set_unusable_password()
    integration.save(update_fields=["password"])
    return {
        "csms": csms,
        "execs": execs,
        "ceo": ceo,
        "vp": vp,
        "users": users,
        "teams": [leadership, *departments.values(), *cs_teams],
    }


def _company_names(rng: random.Random, n: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        name = f"{rng.choice(_PREFIXES)} {rng.choice(_SUFFIXES)}"
        if name in seen:
            name = f"{name} {len(names) + 1}"
        seen.add(name)
        names.append(name)
    return names


@transaction.atomic
def build_demo_book(*, accounts: int = 300, months: int = 32, seed: int = 7) -> DemoSummary:
    """Replace any existing demo book with a fresh one; deterministic for the arguments."""
    rng = random.Random(seed)
    today = clock.today()
    if connection.vendor == "sqlite":
        # 32 months of history make the fact tables' indexes outgrow SQLite's default 2 MiB
        # page cache, and inserts then wait on page reads; 256 MiB at most, for this
        # connection only.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -262144")
    clear_demo_book()
    # Hashed once and shared, with a random salt: a short fixed salt makes Django re-hash
    # the password at the first login, which logs out that person's other sessions.
    password = make_password(DEMO_PASSWORD)
    people = _people(rng, accounts, password)
    csms: list[User] = people["csms"]  # type: ignore[assignment]
    execs: list[User] = people["execs"]  # type: ignore[assignment]
    ceo: User = people["ceo"]  # type: ignore[assignment]
    # The hidden risk of every account over the history (accounts.demo_activity): it draws
    # the renewal outcomes here and every fact in build_activity.
    midnight = dt.datetime.combine(clock.now().astimezone(dt.UTC).date(), dt.time.min, dt.UTC)
    story = simulate(accounts=accounts, months=months, end=midnight, seed=seed)
    history_start = story.start.date()
    outcomes_from = history_start + dt.timedelta(days=WARMUP_DAYS)

    names = _company_names(rng, accounts)
    rows: list[Account] = []
    past: list[list[tuple[dt.date, str]]] = []
    for i, name in enumerate(names):
        segment, _, median = rng.choices(_SEGMENTS, weights=[s[1] for s in _SEGMENTS])[0]
        arr = Decimal(round(median * math.exp(rng.gauss(0, 0.45)), -2))
        tier = Tier.NONE
        if segment == Segment.STRATEGIC:
            tier = Tier.STRATEGIC
        elif segment == Segment.ENTERPRISE and arr >= 150_000:
            tier = Tier.ENTERPRISE
        # csm1's book always holds a few accounts, whatever the size of the demo.
        owner = csms[0] if i % max(1, len(csms)) == 0 else rng.choice(csms)
        renewal = today + dt.timedelta(days=rng.randint(3, 365))  # the next one, if it stays
        tenure_years = rng.choice((0, 1, 1, 2, 2, 3, 4, 5))
        since = renewal - dt.timedelta(days=365 * (tenure_years + 1))
        # Yearly renewals inside the history, oldest first; the first churn is the last.
        dates = [renewal - dt.timedelta(days=365 * k) for k in range(tenure_years, 0, -1)]
        outcomes: list[tuple[dt.date, str]] = []
        for day in dates:
            if outcomes_from <= day < today:
                outcomes.append((day, story.renewal_outcome(i, day)))
                if outcomes[-1][1] == RenewalOutcomeKind.CHURNED:
                    renewal = day
                    break
        past.append(outcomes)
        churned = bool(outcomes) and outcomes[-1][1] == RenewalOutcomeKind.CHURNED
        story.set_life(i, since, renewal if churned else None)
        if churned:
            stage = LifecycleStage.CHURNED
        elif (today - since).days < 120:
            stage = LifecycleStage.ONBOARDING
        elif (renewal - today).days <= 90:
            stage = LifecycleStage.RENEWAL
        else:
            stage = rng.choice((LifecycleStage.ADOPTION, LifecycleStage.MATURE))
        rows.append(
            Account(
                name=name,
                arr=arr,
                currency="USD",
                segment=segment,
                tier=tier,
                industry=rng.choice(_INDUSTRIES),
                renewal_date=renewal,
                customer_since=since,
                lifecycle_stage=stage,
                owner=owner,
                team_id=owner.team_id,
                crm_id=f"{CRM_PREFIX}{i + 1:06d}",
                helpdesk_org_id=f"ZD-{100000 + i + 1}",
            )
        )
    _insert_accounts(rows)

    contacts: list[list[Contact]] = []
    relationships: list[PriorRelationship] = []
    renewals: list[tuple] = []
    for account, outcomes in zip(rows, past, strict=True):
        mine: list[Contact] = []
        contacts.append(mine)
        # A churned account's ordinary turnover happened before it churned.
        last_day = min(today, account.renewal_date or today)
        domain = account.name.lower().replace(" ", "") + ".example"
        n = {Segment.SMB: 2, Segment.MID_MARKET: 3, Segment.ENTERPRISE: 5, Segment.STRATEGIC: 6}[
            account.segment
        ] + rng.randint(0, 1)
        has_edm = rng.random() > 0.07  # some accounts have no known decision maker
        for k in range(n):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            if k == 0 and has_edm:
                roles, title = [ContactRole.EXECUTIVE_DECISION_MAKER.value], rng.choice(_EDM_TITLES)
            elif k <= 1:
                roles, title = [ContactRole.CHAMPION.value], rng.choice(_CHAMPION_TITLES)
            else:
                roles = [
                    rng.choice(
                        (
                            ContactRole.ADMIN,
                            ContactRole.USER,
                            ContactRole.TECHNICAL,
                            ContactRole.BILLING,
                        )
                    ).value
                ]
                title = rng.choice(_OTHER_TITLES)
            # Ordinary staff turnover; key people leave in the activity story instead.
            left = k >= 2 and rng.random() < 0.05
            contact = Contact(
                account=account,
                name=f"{first} {last}",
                email=f"{first}.{last}{k}@{domain}".lower(),
                title=title,
                roles=roles,
                at_company=not left,
                left_on=last_day - dt.timedelta(days=rng.randint(5, 200)) if left else None,
            )
            mine.append(contact)
        if account.tier != Tier.NONE and rng.random() < 0.25:
            relationships.append(
                PriorRelationship(
                    account=account,
                    person=rng.choice(execs),
                    kind=RelationshipKind.SALES_CYCLE,
                    note="Joined the final calls of the sales cycle.",
                )
            )
        if account.segment in (Segment.ENTERPRISE, Segment.STRATEGIC) and rng.random() < 0.05:
            relationships.append(
                PriorRelationship(
                    account=account,
                    person=ceo,
                    kind=RelationshipKind.PERSONAL,
                    note="The CEO knows their CEO.",
                )
            )
        for day, outcome in outcomes:
            before, after = account.arr, account.arr
            if outcome == RenewalOutcomeKind.CHURNED:
                after = Decimal("0")
            elif outcome == RenewalOutcomeKind.DOWNSOLD:
                after = (before * Decimal(rng.uniform(0.55, 0.9))).quantize(Decimal("1"))
            renewals.append((account.pk, day, outcome, before, after))
    changes = people_story(story, rows, contacts)
    every_contact = [c for mine in contacts for c in mine] + changes.new_contacts
    _insert_contacts(every_contact)
    people_changes = changes.insert()
    PriorRelationship.objects.bulk_create(relationships, batch_size=BATCH, ignore_conflicts=True)
    insert_rows(
        RenewalOutcome,
        ("account_id", "renewal_date", "outcome", "arr_before", "arr_after"),
        renewals,
    )
    activity = {**build_activity(rows, story), "people_changes": people_changes}
    analyze()  # the scorecard reads plan on these rows next
    return DemoSummary(
        accounts=len(rows),
        contacts=len(every_contact),
        users=len(people["users"]),  # type: ignore[arg-type]
        teams=len(people["teams"]),  # type: ignore[arg-type]
        renewals=len(renewals),
        activity=activity,
    )


def _insert_accounts(rows: list[Account]) -> None:
    """Insert the accounts on the fast path (csrisk.db) and give each its primary key."""
    now = clock.now()
    insert_rows(
        Account,
        (
            "name",
            "arr",
            "currency",
            "segment",
            "tier",
            "industry",
            "renewal_date",
            "customer_since",
            "lifecycle_stage",
            "owner_id",
            "team_id",
            "crm_id",
            "helpdesk_org_id",
            "created_at",
            "updated_at",
        ),
        (
            (
                a.name,
                a.arr,
                a.currency,
                str(a.segment),
                str(a.tier),
                a.industry,
                a.renewal_date,
                a.customer_since,
                str(a.lifecycle_stage),
                a.owner_id,
                a.team_id,
                a.crm_id,
                a.helpdesk_org_id,
                now,
                now,
            )
            for a in rows
        ),
    )
    ids = dict(Account.objects.filter(crm_id__startswith=CRM_PREFIX).values_list("crm_id", "pk"))
    for account in rows:
        account.pk = ids[account.crm_id]
        account._state.adding = False


def _insert_contacts(contacts: list[Contact]) -> None:
    """Insert the contacts on the fast path and give each its primary key (their e-mail
    addresses are unique within an account)."""
    now = clock.now()
    insert_rows(
        Contact,
        (
            "account_id",
            "name",
            "email",
            "title",
            "roles",
            "at_company",
            "left_on",
            "created_at",
            "updated_at",
        ),
        (
            (c.account_id, c.name, c.email, c.title, c.roles, c.at_company, c.left_on, now, now)
            for c in contacts
        ),
    )
    ids = {
        (a, e): pk
        for a, e, pk in Contact.objects.filter(account__crm_id__startswith=CRM_PREFIX).values_list(
            "account_id", "email", "pk"
        )
    }
    for contact in contacts:
        contact.pk = ids[(contact.account_id, contact.email)]
        contact._state.adding = False


def clear_demo_book() -> None:
    """Remove a previous demo book: its accounts (by CRM prefix), people and teams."""
    Account.objects.filter(crm_id__startswith=CRM_PREFIX).delete()  # their CTAs go too
    demo_users = User.objects.filter(email__endswith="@csrisk.example")
    Team.objects.filter(members__in=demo_users).distinct().delete()
    Team.objects.filter(name__in=("Leadership",)).delete()
    demo_users.delete()


def demo_book_exists() -> bool:
    return Account.objects.filter(crm_id__startswith=CRM_PREFIX).exists()
