"""The demo book's history: a generative story over ``months`` (32 by default) from which
every fact and every renewal outcome is drawn. It is a demo, not evidence.

The story has one hidden quantity, each account's **risk**, and nothing else links the
facts: every fact type and every renewal outcome is drawn from the risk *at the time*, each
with its own noise. No fact is read to set another fact or an outcome, so a signal predicts
churn in the backtest only as far as its noise lets the shared risk through.

Time. Month m (0 … months − 1) covers the days [m·L, (m + 1)·L) after the start of the
history, L = 30.44 days; the last month ends at today's midnight (UTC), so a book seeded
again the same day is the same book. An account lives from ``customer_since``
(or the start of the history) until today, or until the renewal at which it churned: it has
no fact before or after its life.

Latent risk, on the logit scale, x[i, m] = μ_i + z[i, m] + s[i, m], risk = 1 / (1 + e^−x):

- baseline μ_i ~ N(−2.5, 0.6) (a mostly healthy book: median risk 0.08);
- drift z: AR(1), z[m] = 0.85·z[m−1] + N(0, 0.4), starting from its stationary
  N(0, 0.4 / √(1 − 0.85²)) (so sd ≈ 0.76, a quarter later the correlation is 0.61);
- shocks s: each month an account suffers a shock with probability 0.02; it adds
  U(1, 2) to s, which then decays by × 0.75 a month (s[m] = 0.75·s[m−1] + jump). A shock
  is an executive departure (40%: the Executive Decision Maker leaves, recorded as a people
  change when one is on record), a reorganisation (30%: recorded with probability 0.8) or
  something nobody records — a budget cut, a failed project (30%).

Renewal outcomes. Each account renews yearly on its renewal day. Renewals in the first
270 days of the history are the warm-up: they are not recorded (the backtest needs 180
days of facts before T-90; and a customer lost before then is simply not in the book).
At each later renewal inside the history, with x̄ the mean of x over the three months
before it, p = 1 / (1 + e^−(0.6 + 1.5·x̄ + N(0, 0.5))) is the chance of churn (about 10%
of renewals); otherwise the customer downsells with probability 0.03 + 0.3·σ(x̄)
(keeping 55–90% of the ARR) or renews. The first churn ends the account's life: it is the
account's last renewal, and a live account's next renewal is in the coming 12 months.

Facts, per month of life (rates are per month; "r" is the risk that month; counts are
Poisson, spread uniformly over the days of life in the month):

- **Support tickets**: rate base(segment) · g_i · (0.5 + 3·r), base SMB 0.6, mid-market
  1.5, enterprise 3, strategic 5, g_i ~ LogNormal(0, 0.3) a customer's own habit.
  Priority urgent 0.03 + 0.04·r, high 0.16, normal 0.6 − 0.04·r, low 0.21. Each quarter
  the account has a sore spot (a tag and a requester group, uniform); a ticket is about the
  sore spot with probability 0.6·r, otherwise its tag (12) and group (6) are uniform.
  Solved after (2 + 10·r) · LogNormal(−0.245, 0.7) days (mean 2 + 10·r); not solved by
  now: new/open/pending.
- **Defects**: rate base(segment)/6 · (0.5 + 3·r); priority urgent 0.05 + 0.1·r, high
  0.25, normal 0.5 − 0.1·r, low 0.2; fixed after Exponential(mean 10 + 40·r days).
  A churned account's open tickets and defects are closed on its churn date.
- **Usage**, every Monday of life: seats_i = seats(segment) · LogNormal(0, 0.3) (SMB 15,
  mid-market 60, enterprise 250, strategic 900), active share b_i · (1 − 0.6·r) ·
  N(1, 0.05) with b_i ~ Beta(8, 3); adoption is that share.
- **NPS**: rate 0.18 answers, score round(N(9 − 6·r, 1.1)) clipped to 0–10.
- **CSAT** (support surveys): rate 0.5 · base(segment) · (0.5 + 3·r) answers (about one
  for every two tickets, drawn on its own: no ticket is read), rating round(N(4.6 − 3·r,
  0.9)) clipped to 1–5.
- **People** (beyond the shocks): the Executive Decision Maker leaves at rate
  0.002 + 0.015·r, the champion at 0.003 + 0.03·r, the champion's title is downgraded
  ("Head of …" → "… Manager") at 0.002 + 0.02·r (once per person), a reorganisation is
  reported at 0.002 + 0.02·r. A departed Executive Decision Maker is succeeded with
  probability 0.9 after U(30, 120) days, a champion with probability 0.7 after U(30, 150)
  days: the successor is a new contact, recorded as an executive (or champion) joining
  from another company.
- **Competitors**: rate 0.01 + 0.35·r events (evaluation 30%, engagement 30%,
  mention 40%) with one of four competitors.
- **Implementation**: an account that became a customer inside the history has four
  milestones due 20, 50, 80 and 110 days after it started; each is late with probability
  0.15 + 0.6·r (r of its due month), finished Exponential(mean 20 + 60·r) days after its
  due date, else two days early; one not finished by now (or by the churn) stays open.
- **Readiness**: assessed at rate 0.025; each of data, skills and staffing is
  5 − round(3·r + N(0, 0.6)), clipped to 1–5.

Ordinary staff turnover (non-key contacts leaving) is drawn in ``accounts.demo``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from accounts.choices import ContactRole, RenewalOutcomeKind, Segment
from accounts.models import (
    Account,
    CompetitorEvent,
    Contact,
    Milestone,
    ReadinessAssessment,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from csrisk.db import insert_rows

MONTH_DAYS = 30.44
WARMUP_DAYS = 270
# The latent risk.
BASELINE_MEAN, BASELINE_SD = -2.5, 0.6
PHI, SIGMA = 0.85, 0.4
SHOCK_RATE, SHOCK_DECAY, SHOCK_SIZE = 0.02, 0.75, (1.0, 2.0)
SHOCK_EXECUTIVE, SHOCK_REORG, SHOCK_UNRECORDED = 1, 2, 3
SHOCK_KINDS = (0.4, 0.3, 0.3)
# Renewal outcomes.
CHURN_INTERCEPT, CHURN_SLOPE, CHURN_NOISE = 0.6, 1.5, 0.5

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
ACTIVITIES = ("evaluation", "engagement", "mention")
MILESTONES = ("Kickoff", "Data migration", "SSO and permissions", "Go-live")
# A champion's title after a downgrade ("Head of" / "Director" / "VP" → a manager).
DOWNGRADED_TITLES = {
    "Head of Operations": "Senior Operations Manager",
    "Director of IT": "IT Manager",
    "VP Engineering": "Engineering Manager",
    "Head of Customer Operations": "Customer Operations Manager",
    "Director of Analytics": "Analytics Manager",
}
EDM_TITLES = ("CEO", "COO", "CFO", "CIO", "CTO", "VP Operations", "Chief Customer Officer")
CHAMPION_TITLES = tuple(DOWNGRADED_TITLES)
FORMER_EMPLOYERS = ("Northbeam", "Quillon", "Brightpath", "Kestrel Group", "Oakline", "Vantora")
FIRST_NAMES = ("Alex", "Bianca", "Chidi", "Dora", "Erik", "Fern", "Gus", "Hana", "Ivo", "Jade")
LAST_NAMES = ("Abbott", "Berg", "Costa", "Dahl", "Ekwueme", "Frost", "Gomez", "Holm", "Ishii")

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
PRIORITIES = np.array(["urgent", "high", "normal", "low"], dtype=object)
OPEN_STATUSES = np.array(["new", "open", "pending"], dtype=object)
# One shared list per tag: insert_rows serialises it per row, nobody mutates it.
TAG_LISTS = np.empty(len(TAGS), dtype=object)
TAG_LISTS[:] = [[t] for t in TAGS]


def _sigmoid(x: np.ndarray | float) -> np.ndarray | float:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Story:
    """The latent risk of every account for every month of the history, and what it drew."""

    start: dt.datetime  # aware UTC: day 0 of the history
    months: int
    x: np.ndarray  # (accounts, months): latent risk on the logit scale
    shocks: np.ndarray  # (accounts, months): 0, or the kind of shock that month
    rng: np.random.Generator
    life: np.ndarray = field(init=False)  # (accounts, 2): first and last day of life

    def __post_init__(self) -> None:
        self.life = np.tile([0.0, self.months * MONTH_DAYS], (len(self.x), 1))

    @property
    def risk(self) -> np.ndarray:
        return _sigmoid(self.x)

    def day(self, when: dt.date) -> float:
        """Days from the start of the history to the midnight (UTC) starting ``when``."""
        midnight = dt.datetime.combine(when, dt.time.min, tzinfo=dt.UTC)
        return (midnight - self.start).total_seconds() / 86400

    def set_life(self, i: int, since: dt.date | None, until: dt.date | None) -> None:
        """Account ``i`` has facts from ``since`` and, when it churned, until ``until``."""
        if since is not None:
            self.life[i, 0] = max(0.0, self.day(since))
        if until is not None:
            self.life[i, 1] = min(self.months * MONTH_DAYS, self.day(until))

    def renewal_outcome(self, i: int, when: dt.date) -> str:
        """Draw the outcome of account ``i``'s renewal on ``when`` from its recent risk."""
        m = int(np.clip(self.day(when) // MONTH_DAYS, 1, self.months))
        xbar = float(self.x[i, max(0, m - 3) : m].mean())
        p_churn = _sigmoid(CHURN_INTERCEPT + CHURN_SLOPE * xbar + self.rng.normal(0, CHURN_NOISE))
        u = self.rng.random()
        if u < p_churn:
            return RenewalOutcomeKind.CHURNED.value
        if u < p_churn + (1 - p_churn) * (0.03 + 0.3 * _sigmoid(xbar)):
            return RenewalOutcomeKind.DOWNSOLD.value
        return RenewalOutcomeKind.RENEWED.value

    # --- helpers over (accounts × months) ---------------------------------------------

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        """The part of each month (first and last day) inside each account's life."""
        edges = np.arange(self.months + 1) * MONTH_DAYS
        lo = np.maximum(edges[None, :-1], self.life[:, :1])
        hi = np.minimum(edges[None, 1:], self.life[:, 1:])
        return lo, np.maximum(hi, lo)

    def draw(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poisson events at ``rate`` per month of life: (account, month, day) arrays."""
        lo, hi = self.spans()
        counts = self.rng.poisson(rate * (hi - lo) / MONTH_DAYS)
        flat = np.repeat(np.arange(counts.size), counts.ravel())
        i, m = np.divmod(flat, self.months)
        day = lo[i, m] + self.rng.random(len(flat)) * (hi[i, m] - lo[i, m])
        return i, m, day

    def datetimes(self, days: np.ndarray) -> list[dt.datetime]:
        """UTC datetimes (to the second) for days since the start, *naive*: insert_rows
        passes them through (SQLite stores UTC text, PostgreSQL reads them in the
        connection's time zone, which Django sets to UTC), and making a million of them
        aware only for the adapter to strip it again cost seconds."""
        base = np.datetime64(self.start.replace(tzinfo=None), "s")
        return (base + np.round(days * 86400).astype("timedelta64[s]")).astype(object).tolist()

    def dates(self, days: np.ndarray) -> list[dt.date]:
        """The UTC dates of the instants ``days`` after the start."""
        base = np.datetime64(self.start.replace(tzinfo=None), "s")
        instants = base + np.round(days * 86400).astype("timedelta64[s]")
        return instants.astype("datetime64[D]").astype(object).tolist()


def simulate(*, accounts: int, months: int, end: dt.datetime, seed: int) -> Story:
    """The latent risk of ``accounts`` accounts over ``months`` months ending ``end``."""
    rng = np.random.default_rng(seed)
    n = accounts
    mu = rng.normal(BASELINE_MEAN, BASELINE_SD, n)
    eps = rng.normal(0.0, SIGMA, (n, months))
    jump = rng.random((n, months)) < SHOCK_RATE
    size = rng.uniform(*SHOCK_SIZE, (n, months))
    kind = rng.choice(3, size=(n, months), p=SHOCK_KINDS) + 1
    z = np.empty((n, months))
    s = np.empty((n, months))
    z[:, 0] = rng.normal(0.0, SIGMA / np.sqrt(1 - PHI**2), n)
    s[:, 0] = jump[:, 0] * size[:, 0]
    for m in range(1, months):
        z[:, m] = PHI * z[:, m - 1] + eps[:, m]
        s[:, m] = SHOCK_DECAY * s[:, m - 1] + jump[:, m] * size[:, m]
    start = end - dt.timedelta(days=months * MONTH_DAYS)
    return Story(
        start=start,
        months=months,
        x=mu[:, None] + z + s,
        shocks=np.where(jump, kind, 0),
        rng=rng,
    )


# --- people --------------------------------------------------------------------------------


@dataclass
class PeopleStory:
    """People changes drawn from the story, waiting for their contacts' primary keys."""

    new_contacts: list[Contact] = field(default_factory=list)
    # (account, contact or None, change, when, roles, old title, new title, from company)
    changes: list[tuple] = field(default_factory=list)

    def insert(self) -> int:
        """Record the changes (after the contacts are saved) the way every people change is
        recorded, title history included; return how many."""
        from accounts.services import PeopleChangeIn, people_changes_record

        recorded = people_changes_record(
            [
                PeopleChangeIn(
                    account_id=a.pk,
                    change=kind,
                    occurred_at=when.replace(tzinfo=dt.UTC),
                    contact=c,
                    roles=roles,
                    old_title=old,
                    new_title=new,
                    from_company=company,
                    source="demo",
                )
                for a, c, kind, when, roles, old, new, company in self.changes
            ]
        )
        return sum(r.recorded for r in recorded)


EDM_LEFT, CHAMPION_LEFT, DOWNGRADE, REORG = range(4)


def people_story(
    story: Story, accounts: list[Account], contacts: list[list[Contact]]
) -> PeopleStory:
    """Departures, successors, title downgrades and reorganisations over each account's life.

    ``contacts[i]`` are account ``i``'s contacts, not saved yet: departures and downgrades
    change them in place, successors are added to ``PeopleStory.new_contacts``.
    """
    rng = story.rng
    r = story.risk
    n, months = r.shape
    lo, hi = story.spans()
    alive = hi > lo
    hazards = (
        0.002 + 0.015 * r,  # EDM_LEFT
        0.003 + 0.03 * r,  # CHAMPION_LEFT
        0.002 + 0.02 * r,  # DOWNGRADE
        0.002 + 0.02 * r,  # REORG
    )
    kinds = [np.where(alive & (rng.random((n, months)) < h), k, -1) for k, h in enumerate(hazards)]
    shocks = story.shocks
    kinds.append(np.where(alive & (shocks == SHOCK_EXECUTIVE), EDM_LEFT, -1))
    recorded_reorg = rng.random((n, months)) < 0.8
    kinds.append(np.where(alive & (shocks == SHOCK_REORG) & recorded_reorg, REORG, -1))
    stacked = np.stack(kinds)  # (kinds, n, months)
    _, ii, mm = np.nonzero(stacked >= 0)
    what = stacked[stacked >= 0]
    days = lo[ii, mm] + rng.random(len(ii)) * (hi[ii, mm] - lo[ii, mm])
    order = np.lexsort((what, days, ii))  # each account's events in the order they happen
    ii, what, days = ii[order], what[order], days[order]
    when = story.datetimes(days)
    succeed = rng.random(len(ii))
    gap = rng.random(len(ii))
    picks = rng.integers(0, 1 << 30, len(ii))
    out = PeopleStory()
    end = {}  # account index → the end of its life as a datetime
    state: dict[int, dict[str, Contact | None]] = {}
    arrives: dict[int, dt.datetime] = {}  # a successor's id() → the day they join
    for k in range(len(ii)):
        i, kind, at = int(ii[k]), int(what[k]), when[k]
        account = accounts[i]
        if i not in state:
            people = [c for c in contacts[i] if c.at_company]
            state[i] = {
                "edm": next(
                    (c for c in people if ContactRole.EXECUTIVE_DECISION_MAKER in c.roles), None
                ),
                "champion": next((c for c in people if ContactRole.CHAMPION in c.roles), None),
            }
            end[i] = story.start.replace(tzinfo=None) + dt.timedelta(days=float(story.life[i, 1]))
        key = {EDM_LEFT: "edm", CHAMPION_LEFT: "champion", DOWNGRADE: "champion"}.get(kind)
        person = state[i][key] if key else None
        if person is not None and arrives.get(id(person), at) > at:
            continue  # the successor has not joined yet
        if kind == REORG:
            out.changes.append((account, None, "reorg", at, [], "", "", ""))
        elif kind == DOWNGRADE and person is not None and person.title in DOWNGRADED_TITLES:
            old, new = person.title, DOWNGRADED_TITLES[person.title]
            person.title = new
            out.changes.append((account, person, "title_changed", at, person.roles, old, new, ""))
        elif kind in (EDM_LEFT, CHAMPION_LEFT) and person is not None and person.at_company:
            person.at_company, person.left_on = False, at.date()
            out.changes.append((account, person, "left", at, person.roles, person.title, "", ""))
            state[i][key] = None
            edm = kind == EDM_LEFT
            days_later = 30 + float(gap[k]) * (90 if edm else 120)
            joined = at + dt.timedelta(days=days_later)
            if succeed[k] < (0.9 if edm else 0.7) and joined < end[i]:
                pick = int(picks[k])
                titles = EDM_TITLES if edm else CHAMPION_TITLES
                first, last = FIRST_NAMES[pick % 10], LAST_NAMES[(pick >> 4) % 9]
                domain = person.email.split("@")[-1]
                successor = Contact(
                    account=account,
                    name=f"{first} {last}",
                    email=f"{first}.{last}.{k}@{domain}".lower(),
                    title=titles[(pick >> 8) % len(titles)],
                    roles=list(person.roles),
                )
                out.new_contacts.append(successor)
                state[i][key] = successor
                arrives[id(successor)] = joined
                company = FORMER_EMPLOYERS[(pick >> 12) % len(FORMER_EMPLOYERS)]
                out.changes.append(
                    (
                        account,
                        successor,
                        "joined",
                        joined,
                        successor.roles,
                        "",
                        successor.title,
                        company,
                    )
                )
    return out


# --- facts --------------------------------------------------------------------------------


def _choose(u: np.ndarray, cumulative: list[np.ndarray | float]) -> np.ndarray:
    """Index of the category each uniform ``u`` falls in, given cumulative bounds."""
    out = np.zeros(len(u), dtype=np.int64)
    for bound in cumulative:
        out += u > bound
    return out


def build_activity(accounts: list[Account], story: Story) -> dict[str, int]:
    """Create every account's facts from the story; return how many of each were made."""
    rng = story.rng
    r = story.risk
    n, months = r.shape
    aid = np.array([a.pk for a in accounts], dtype=np.int64)
    segments = [a.segment for a in accounts]
    base = np.array([TICKET_RATE[s] for s in segments])
    horizon = months * MONTH_DAYS
    counts: dict[str, int] = {}

    # Support tickets and defects.
    habit = rng.lognormal(0.0, 0.3, n)
    i, m, day = story.draw(base[:, None] * habit[:, None] * (0.5 + 3 * r))
    rt = r[i, m]
    prio = _choose(rng.random(len(i)), [0.03 + 0.04 * rt, 0.19 + 0.04 * rt, 0.79])
    quarters = (months + 2) // 3
    sore_tag = rng.integers(0, len(TAGS), (n, quarters))
    sore_group = rng.integers(0, len(GROUPS), (n, quarters))
    on_spot = rng.random(len(i)) < 0.6 * rt
    tag = np.where(on_spot, sore_tag[i, m // 3], rng.integers(0, len(TAGS), len(i)))
    group = np.where(on_spot, sore_group[i, m // 3], rng.integers(0, len(GROUPS), len(i)))
    solve = (2 + 10 * rt) * rng.lognormal(-0.245, 0.7, len(i))  # mean 2 + 10·r
    support = _tickets(story, aid, i, day, solve, prio, tag, rng)
    support_groups = np.array(GROUPS, dtype=object)[group]
    counts["tickets"] = insert_rows(
        Ticket,
        TICKET_COLUMNS,
        zip(
            support["account_id"],
            repeat("demo"),
            repeat("support"),
            support["priority"],
            support["status"],
            support["tags"],
            support_groups.tolist(),
            support["opened_at"],
            support["solved_at"],
            repeat("Customer request"),
            strict=False,
        ),
    )
    i, m, day = story.draw(base[:, None] / 6 * (0.5 + 3 * r))
    rt = r[i, m]
    prio = _choose(rng.random(len(i)), [0.05 + 0.1 * rt, 0.3 + 0.1 * rt, 0.8])
    solve = rng.exponential(1.0, len(i)) * (10 + 40 * rt)
    tag = rng.integers(0, len(TAGS), len(i))
    defects = _tickets(story, aid, i, day, solve, prio, tag, rng)
    counts["tickets"] += insert_rows(
        Ticket,
        TICKET_COLUMNS,
        zip(
            defects["account_id"],
            repeat("demo"),
            repeat("defect"),
            defects["priority"],
            defects["status"],
            defects["tags"],
            repeat(""),
            defects["opened_at"],
            defects["solved_at"],
            repeat("Defect report"),
            strict=False,
        ),
    )

    # Weekly usage, every Monday of each account's life.
    first = story.start.date() + dt.timedelta(days=1)
    first += dt.timedelta(days=(7 - first.weekday()) % 7)  # the first Monday after the start
    mondays = np.arange(story.day(first), horizon, 7.0)
    seats = np.maximum(
        3, np.round(np.array([SEATS[s] for s in segments]) * rng.lognormal(0, 0.3, n))
    )
    habitual = rng.beta(8, 3, n)
    live = (mondays[None, :] >= story.life[:, :1]) & (mondays[None, :] <= story.life[:, 1:])
    ui, uw = np.nonzero(live)
    week_month = np.minimum((mondays // MONTH_DAYS).astype(np.int64), months - 1)
    share = habitual[ui] * (1 - 0.6 * r[ui, week_month[uw]]) * rng.normal(1, 0.05, len(ui))
    share = np.clip(share, 0, 1)
    active = np.minimum(seats[ui], np.round(seats[ui] * share))
    week_dates = np.array(story.dates(mondays), dtype=object)
    counts["usage"] = insert_rows(
        UsageSnapshot,
        ("account_id", "week", "active_users", "licensed_users", "adoption"),
        zip(
            aid[ui].tolist(),
            week_dates[uw].tolist(),
            active.astype(np.int64).tolist(),
            seats[ui].astype(np.int64).tolist(),
            np.round(share, 4).tolist(),
            strict=True,
        ),
    )

    # NPS answers.
    i, m, day = story.draw(np.full((n, months), 0.18))
    score = np.clip(np.round(rng.normal(9 - 6 * r[i, m], 1.1)), 0, 10).astype(np.int64)
    counts["sentiment"] = insert_rows(
        SentimentResponse,
        ("account_id", "source", "responded_at", "nps", "comment"),
        zip(
            aid[i].tolist(),
            repeat("demo"),
            story.datetimes(day),
            score.tolist(),
            repeat(""),
            strict=False,
        ),
    )

    # Competitor events.
    i, m, day = story.draw(0.01 + 0.35 * r)
    activity = _choose(rng.random(len(i)), [0.3, 0.6])
    competitor = rng.integers(0, len(COMPETITORS), len(i))
    counts["competitors"] = insert_rows(
        CompetitorEvent,
        ("account_id", "source", "competitor", "activity", "occurred_at", "note"),
        zip(
            aid[i].tolist(),
            repeat("demo"),
            np.array(COMPETITORS, dtype=object)[competitor].tolist(),
            np.array(ACTIVITIES, dtype=object)[activity].tolist(),
            story.datetimes(day),
            repeat(""),
            strict=False,
        ),
    )

    # Implementation milestones of customers who started inside the history.
    since = np.array([story.day(a.customer_since) if a.customer_since else -1.0 for a in accounts])
    starters = np.nonzero(since >= 0)[0]
    mi = np.repeat(starters, len(MILESTONES))
    mk = np.tile(np.arange(len(MILESTONES)), len(starters))
    due = since[mi] + 20 + 30 * mk
    keep = due <= story.life[mi, 1]  # nothing due after a churn
    mi, mk, due = mi[keep], mk[keep], due[keep]
    due_month = np.minimum((due // MONTH_DAYS).astype(np.int64), months - 1)
    rm = r[mi, due_month]
    late = rng.random(len(mi)) < 0.15 + 0.6 * rm
    done = np.where(late, due + np.ceil(rng.exponential(1.0, len(mi)) * (20 + 60 * rm)), due - 2)
    done_dates = np.array(story.dates(done), dtype=object)
    done_dates[done >= story.life[mi, 1]] = None
    counts["milestones"] = insert_rows(
        Milestone,
        ("account_id", "name", "due_on", "completed_on"),
        zip(
            aid[mi].tolist(),
            np.array(MILESTONES, dtype=object)[mk].tolist(),
            story.dates(due),
            done_dates.tolist(),
            strict=True,
        ),
    )

    # Readiness assessments.
    i, m, day = story.draw(np.full((n, months), 0.025))
    dims = np.clip(5 - np.round(3 * r[i, m][:, None] + rng.normal(0, 0.6, (len(i), 3))), 1, 5)
    dims = dims.astype(np.int64)
    counts["readiness"] = insert_rows(
        ReadinessAssessment,
        ("account_id", "assessed_on", "data", "skills", "staffing", "note"),
        zip(
            aid[i].tolist(),
            story.dates(day),
            dims[:, 0].tolist(),
            dims[:, 1].tolist(),
            dims[:, 2].tolist(),
            repeat(""),
            strict=False,
        ),
    )

    # CSAT answers to support surveys (drawn last: the facts above stay as they were).
    i, m, day = story.draw(0.5 * base[:, None] * (0.5 + 3 * r))
    rating = np.clip(np.round(rng.normal(4.6 - 3 * r[i, m], 0.9)), 1, 5).astype(np.int64)
    counts["sentiment"] += insert_rows(
        SentimentResponse,
        ("account_id", "source", "responded_at", "csat", "comment"),
        zip(
            aid[i].tolist(),
            repeat("demo"),
            story.datetimes(day),
            rating.tolist(),
            repeat(""),
            strict=False,
        ),
    )
    return counts


def _tickets(
    story: Story,
    aid: np.ndarray,
    i: np.ndarray,
    day: np.ndarray,
    solve: np.ndarray,
    prio: np.ndarray,
    tag: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, list]:
    """Columns of tickets opened on ``day`` and solved ``solve`` days later: those still
    unsolved at the end of the account's life are open now, or closed at its churn."""
    end = story.life[i, 1]
    solved_day = day + solve
    now = story.months * MONTH_DAYS
    churned = end < now
    solved = (solved_day <= end) | churned
    solved_day = np.minimum(solved_day, end)
    status = np.where(solved, "solved", OPEN_STATUSES[rng.integers(0, 3, len(i))])
    solved_at = np.array(story.datetimes(solved_day), dtype=object)
    solved_at[~solved] = None
    return {
        "account_id": aid[i].tolist(),
        "priority": PRIORITIES[prio].tolist(),
        "status": status.tolist(),
        "tags": TAG_LISTS[tag].tolist(),
        "opened_at": story.datetimes(day),
        "solved_at": solved_at.tolist(),
    }
