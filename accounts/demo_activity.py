"""Activity history for the demo book: tickets, defects, usage, NPS, people changes,
competitor events, implementation milestones and readiness assessments.

The generative story (a demo, not evidence):

- Every active account has a hidden **risk** r drawn from Beta(1.2, 6) (mean ≈ 0.17),
  independent of its segment and size. Nothing reads r afterwards; it only shapes the
  facts below, each with its own noise, so that signals disagree with each other as
  they do in life and no signal is a perfect copy of r.
- **Support tickets**: a monthly rate by segment (SMB 0.6, mid-market 1.5, enterprise
  3, strategic 5). The 180 days before the last 90 run at that rate; the last 90 at
  rate × (1 + 2·r·g), g ~ LogNormal(0, 0.5). Priorities 4% urgent, 16% high, 60% normal,
  20% low; tickets are solved after Exponential(4 days), the recent ones may still be open.
- **Defects**: a sixth of the ticket rate; open with probability 0.2 + 0.5·r.
- **Usage**: 12 weekly snapshots. Seats by segment; the active share starts at
  Beta(7, 3)·(1 − 0.4·r) and the last 4 weeks fall by r·U(0, 0.8), with ±5% weekly noise.
- **NPS**: 0–3 answers in the last 270 days, N(9 − 6·r, 1.1) rounded to 0–10,
  older answers a point kinder.
- **People**: the Executive Decision Maker leaves in the last 180 days with probability
  0.35·r; a champion's title is downgraded with probability 0.25·r; a reorg is reported
  with probability 0.15·r.
- **Competitors**: Poisson(2.2·r) events in the last 180 days (evaluation 30%,
  engagement 30%, mention 40%).
- **Implementation**: accounts in onboarding get 4 milestones; each is late and open
  with probability 0.15 + 0.6·r.
- **Readiness**: 40% of accounts were assessed in the last 9 months; each dimension is
  5 − round(3·r + N(0, 0.6)), clipped to 1–5.

Renewal outcomes for the backtest are seeded by ``accounts.demo`` separately.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from accounts.choices import LifecycleStage, Segment
from accounts.models import (
    Account,
    CompetitorEvent,
    Contact,
    ContactTitleChange,
    Milestone,
    PeopleChange,
    ReadinessAssessment,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from csrisk.db import insert_rows

BATCH = 5000
TICKET_RATE = {
    Segment.SMB: 0.6,
    Segment.MID_MARKET: 1.5,
    Segment.ENTERPRISE: 3.0,
    Segment.STRATEGIC: 5.0,
}
SEATS = {Segment.SMB: 15, Segment.MID_MARKET: 60, Segment.ENTERPRISE: 250, Segment.STRATEGIC: 900}
TAGS = (
    "login",
    "sso",
    "api",
    "latency",
    "export",
    "billing",
    "reporting",
    "integration",
    "permissions",
    "mobile",
    "data-import",
    "notifications",
)
GROUPS = ("Finance", "IT", "Operations", "Sales Ops", "Support", "Analytics")
COMPETITORS = ("Rivalsoft", "Churnly", "Gainwise", "Totalyze")
MILESTONES = ("Kickoff", "Data migration", "SSO and permissions", "Go-live")
# A champion's title after a downgrade ("Head of" / "Director" / "VP" → a manager).
DOWNGRADED_TITLES = {
    "Head of Operations": "Senior Operations Manager",
    "Director of IT": "IT Manager",
    "VP Engineering": "Engineering Manager",
    "Head of Customer Operations": "Customer Operations Manager",
    "Director of Analytics": "Analytics Manager",
}


TICKET_COLUMNS = (
    "account_id",
    "source",
    "kind",
    "priority",
    "status",
    "tags",
    "requester_group",
    "opened_at",
    "solved_at",
    "subject",
)
PRIORITIES = np.array(["urgent", "high", "normal", "low"])


def build_activity(accounts: list[Account], *, now: dt.datetime, seed: int) -> dict[str, int]:
    """Create the facts for these accounts; return how many of each were made."""
    rng = np.random.default_rng(seed)
    active = [a for a in accounts if a.lifecycle_stage != LifecycleStage.CHURNED]
    risk = rng.beta(1.2, 6.0, size=len(active))
    tickets: list[tuple] = []
    usage: list[tuple] = []
    sentiment: list[tuple] = []
    competitors: list[tuple] = []
    milestones: list[tuple] = []
    readiness: list[tuple] = []
    today = now.date()
    monday = today - dt.timedelta(days=today.weekday())
    for account, r in zip(active, risk, strict=True):
        aid = account.pk
        rate = TICKET_RATE[account.segment]
        growth = 1 + 2.0 * r * rng.lognormal(0, 0.5)
        for window_start, window_rate in ((270, rate), (180, rate), (90, rate * growth)):
            n = rng.poisson(window_rate * 3)
            ages = rng.uniform(window_start - 90, window_start, n)
            solve = rng.exponential(4.0, n)
            prio = PRIORITIES[rng.choice(4, n, p=[0.04, 0.16, 0.6, 0.2])]
            still_open = rng.choice(["open", "pending", "new"], n)
            tags = rng.integers(0, len(TAGS), n)
            groups = rng.integers(0, len(GROUPS), n)
            for i in range(n):
                opened = now - dt.timedelta(days=float(ages[i]))
                solved = solve[i] < ages[i]
                tickets.append(
                    (
                        aid,
                        "demo",
                        "support",
                        str(prio[i]),
                        "solved" if solved else str(still_open[i]),
                        [TAGS[tags[i]]],
                        GROUPS[groups[i]],
                        opened,
                        opened + dt.timedelta(days=float(solve[i])) if solved else None,
                        "Customer request",
                    )
                )
        n = rng.poisson(rate)  # defects: a sixth of six months of tickets
        ages = rng.uniform(0, 180, n)
        is_open = rng.random(n) < 0.2 + 0.5 * r
        prio = PRIORITIES[rng.choice(4, n, p=[0.05 + 0.1 * r, 0.25, 0.5 - 0.1 * r, 0.2])]
        for i in range(n):
            opened = now - dt.timedelta(days=float(ages[i]))
            tickets.append(
                (
                    aid,
                    "demo",
                    "defect",
                    str(prio[i]),
                    "open" if is_open[i] else "solved",
                    [TAGS[rng.integers(0, len(TAGS))]],
                    "",
                    opened,
                    None if is_open[i] else opened + dt.timedelta(days=7),
                    "Defect report",
                )
            )
        seats = max(3, int(SEATS[account.segment] * rng.lognormal(0, 0.3)))
        share = rng.beta(7, 3) * (1 - 0.4 * r)
        drop = r * rng.uniform(0, 0.8)
        noise = rng.normal(1, 0.05, 12)
        for k in range(12):
            level = share * (1 - drop if k < 4 else 1) * noise[k]
            usage.append(
                (
                    aid,
                    monday - dt.timedelta(weeks=k),
                    int(min(seats, max(0, round(seats * level)))),
                    seats,
                    float(np.clip(level, 0, 1)),
                )
            )
        for _ in range(rng.integers(0, 4)):
            age = rng.uniform(0, 270)
            kinder = 1.0 if age > 120 else 0.0
            score = int(np.clip(round(rng.normal(9.0 - 6 * r + kinder, 1.1)), 0, 10))
            sentiment.append((aid, "demo", now - dt.timedelta(days=float(age)), score, ""))
        for _ in range(rng.poisson(2.2 * r)):
            competitors.append(
                (
                    aid,
                    "demo",
                    str(rng.choice(COMPETITORS)),
                    str(rng.choice(["evaluation", "engagement", "mention"], p=[0.3, 0.3, 0.4])),
                    now - dt.timedelta(days=float(rng.uniform(0, 180))),
                    "",
                )
            )
        if account.lifecycle_stage == LifecycleStage.ONBOARDING and account.customer_since:
            for k, name in enumerate(MILESTONES):
                due = account.customer_since + dt.timedelta(days=20 + 30 * k)
                late = rng.random() < 0.15 + 0.6 * r
                done = None if (late or due >= today) else due - dt.timedelta(days=2)
                milestones.append((aid, name, due, done))
        if rng.random() < 0.4:
            dims = [int(np.clip(5 - round(3 * r + rng.normal(0, 0.6)), 1, 5)) for _ in range(3)]
            readiness.append((aid, today - dt.timedelta(days=int(rng.integers(0, 270))), *dims, ""))
    people = _people_changes(active, risk, rng, now)
    counts = {
        "tickets": insert_rows(Ticket, TICKET_COLUMNS, tickets),
        "usage": insert_rows(
            UsageSnapshot,
            ("account_id", "week", "active_users", "licensed_users", "adoption"),
            usage,
        ),
        "sentiment": insert_rows(
            SentimentResponse, ("account_id", "source", "responded_at", "nps", "comment"), sentiment
        ),
        "competitors": insert_rows(
            CompetitorEvent,
            ("account_id", "source", "competitor", "activity", "occurred_at", "note"),
            competitors,
        ),
        "milestones": insert_rows(
            Milestone, ("account_id", "name", "due_on", "completed_on"), milestones
        ),
        "readiness": insert_rows(
            ReadinessAssessment,
            ("account_id", "assessed_on", "data", "skills", "staffing", "note"),
            readiness,
        ),
    }
    return {**counts, "people_changes": people}


def _people_changes(
    active: list[Account], risk: np.ndarray, rng: np.random.Generator, now: dt.datetime
) -> int:
    by_account: dict[int, list[Contact]] = {}
    for c in Contact.objects.filter(account__in=active, at_company=True).order_by("pk"):
        by_account.setdefault(c.account_id, []).append(c)
    changes: list[PeopleChange] = []
    left: list[Contact] = []
    retitled: list[Contact] = []
    titles: list[ContactTitleChange] = []
    for account, r in zip(active, risk, strict=True):
        contacts = by_account.get(account.pk, [])
        edm = next((c for c in contacts if "edm" in c.roles), None)
        champion = next((c for c in contacts if "champion" in c.roles), None)
        when = now - dt.timedelta(days=float(rng.uniform(3, 180)))
        if edm and rng.random() < 0.35 * r:
            edm.at_company, edm.left_on = False, when.date()
            left.append(edm)
            changes.append(
                PeopleChange(
                    account=account,
                    contact=edm,
                    change="left",
                    occurred_at=when,
                    roles=edm.roles,
                    old_title=edm.title,
                    source="demo",
                )
            )
        if champion and rng.random() < 0.25 * r:
            old = champion.title
            new = DOWNGRADED_TITLES.get(old, f"{old} (individual contributor)")
            champion.title = new
            retitled.append(champion)
            titles.append(
                ContactTitleChange(
                    contact=champion,
                    old_title=old,
                    new_title=new,
                    changed_on=when.date(),
                    source="demo",
                )
            )
            changes.append(
                PeopleChange(
                    account=account,
                    contact=champion,
                    change="title_changed",
                    occurred_at=when,
                    roles=champion.roles,
                    old_title=old,
                    new_title=new,
                    source="demo",
                )
            )
        if rng.random() < 0.15 * r:
            changes.append(
                PeopleChange(
                    account=account,
                    change="reorg",
                    source="demo",
                    occurred_at=now - dt.timedelta(days=float(rng.uniform(0, 90))),
                )
            )
    Contact.objects.bulk_update(left, ["at_company", "left_on"], batch_size=BATCH)
    Contact.objects.bulk_update(retitled, ["title"], batch_size=BATCH)
    ContactTitleChange.objects.bulk_create(titles, batch_size=BATCH)
    PeopleChange.objects.bulk_create(changes, batch_size=BATCH)
    return len(changes)
