"""The demo book's generative story (accounts/demo_activity.py): its invariants."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from accounts.demo import build_demo_book
from accounts.demo_activity import MONTH_DAYS, WARMUP_DAYS, simulate
from accounts.models import (
    Account,
    CompetitorEvent,
    Milestone,
    PeopleChange,
    ReadinessAssessment,
    RenewalOutcome,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from csrisk import clock

NOW = dt.datetime(2026, 11, 20, 15, 30, tzinfo=dt.UTC)
MONTHS = 32
MIDNIGHT = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)  # the story ends at today's midnight
START = MIDNIGHT - dt.timedelta(days=MONTHS * MONTH_DAYS)


@pytest.fixture
def book(db):
    with clock.frozen(NOW):
        build_demo_book(accounts=300, months=MONTHS, seed=7)
    return Account.objects.all()


def _month(when: dt.datetime | dt.date) -> int:
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time.min, tzinfo=dt.UTC)
    return int((when - START).total_seconds() // (MONTH_DAYS * 86400))


def _fingerprint() -> dict[str, list]:
    return {
        "tickets": list(
            Ticket.objects.order_by("account__crm_id", "opened_at", "kind").values_list(
                "account__crm_id", "kind", "priority", "status", "tags", "opened_at", "solved_at"
            )
        ),
        "usage": list(
            UsageSnapshot.objects.order_by("account__crm_id", "week").values_list(
                "account__crm_id", "week", "active_users", "licensed_users"
            )
        ),
        "people": list(
            PeopleChange.objects.order_by("account__crm_id", "occurred_at", "change").values_list(
                "account__crm_id", "change", "occurred_at", "old_title", "new_title"
            )
        ),
        "outcomes": list(
            RenewalOutcome.objects.order_by("account__crm_id", "renewal_date").values_list(
                "account__crm_id", "renewal_date", "outcome", "arr_after"
            )
        ),
    }


def test_it_simulates_the_same_risk_for_a_seed():
    a = simulate(accounts=50, months=MONTHS, end=MIDNIGHT, seed=3)
    b = simulate(accounts=50, months=MONTHS, end=MIDNIGHT, seed=3)
    c = simulate(accounts=50, months=MONTHS, end=MIDNIGHT, seed=4)
    assert a.x.shape == (50, MONTHS)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.shocks, b.shocks)
    assert not np.array_equal(a.x, c.x)
    assert ((a.risk > 0) & (a.risk < 1)).all()


def test_it_is_deterministic_for_a_seed_and_a_day(db):
    with clock.frozen(NOW):
        build_demo_book(accounts=40, months=MONTHS, seed=11)
    first = _fingerprint()
    with clock.frozen(NOW + dt.timedelta(hours=5)):  # later the same day
        build_demo_book(accounts=40, months=MONTHS, seed=11)
    assert _fingerprint() == first
    with clock.frozen(NOW):
        build_demo_book(accounts=40, months=MONTHS, seed=12)
    assert _fingerprint() != first


def test_every_fact_type_spans_the_32_months(book):
    support = Ticket.objects.filter(kind="support").values_list("opened_at", flat=True)
    usage = UsageSnapshot.objects.values_list("week", flat=True)
    answers = SentimentResponse.objects.values_list("responded_at", flat=True)
    for name, dates in (("tickets", support), ("usage", usage), ("nps", answers)):
        assert {_month(d) for d in dates} == set(range(MONTHS)), name
    sparse = {
        "defects": Ticket.objects.filter(kind="defect").values_list("opened_at", flat=True),
        "people": PeopleChange.objects.values_list("occurred_at", flat=True),
        "competitors": CompetitorEvent.objects.values_list("occurred_at", flat=True),
        "readiness": ReadinessAssessment.objects.values_list("assessed_on", flat=True),
        "milestones": Milestone.objects.values_list("due_on", flat=True),
    }
    for name, dates in sparse.items():
        months = {_month(d) for d in dates}
        assert min(months) <= 2 and max(months) >= MONTHS - 3, name
        assert min(months) >= 0, name
    # Every kind of people change the story tells.
    assert set(PeopleChange.objects.values_list("change", flat=True)) == {
        "left",
        "joined",
        "title_changed",
        "reorg",
    }


def test_nothing_is_older_than_the_history(db):
    with clock.frozen(NOW):
        build_demo_book(accounts=30, months=6, seed=2)
    start = MIDNIGHT - dt.timedelta(days=6 * MONTH_DAYS)
    assert Ticket.objects.filter(opened_at__lt=start).count() == 0
    assert UsageSnapshot.objects.filter(week__lt=start.date()).count() == 0
    assert Ticket.objects.filter(opened_at__gte=start).exists()


def test_a_churned_account_has_facts_before_its_churn_and_none_after(book):
    churned = list(Account.objects.filter(lifecycle_stage="churned"))
    assert len(churned) >= 10
    for account in churned:
        end = dt.datetime.combine(account.renewal_date, dt.time.min, tzinfo=dt.UTC)
        assert account.usage.exists(), account
        assert account.usage.filter(week__gt=account.renewal_date).count() == 0
        assert account.tickets.filter(opened_at__gt=end).count() == 0
        assert account.tickets.filter(solved_at__gt=end).count() == 0
        assert account.tickets.filter(solved_at__isnull=True).count() == 0
        assert account.sentiment.filter(responded_at__gt=end).count() == 0
        assert account.competitors.filter(occurred_at__gt=end).count() == 0
        assert account.people_changes.filter(occurred_at__gt=end).count() == 0
        assert account.readiness.filter(assessed_on__gt=account.renewal_date).count() == 0
        assert account.milestones.filter(due_on__gt=account.renewal_date).count() == 0
        assert account.contacts.filter(left_on__gt=account.renewal_date).count() == 0
        last = account.renewals.order_by("renewal_date").last()
        assert (last.renewal_date, last.outcome) == (account.renewal_date, "churned")
        assert account.renewals.filter(outcome="churned").count() == 1
    assert Ticket.objects.filter(account__in=churned).count() > 100


def test_no_account_has_facts_before_it_was_a_customer(book):
    for account in Account.objects.filter(customer_since__gt=START.date()):
        since = dt.datetime.combine(account.customer_since, dt.time.min, tzinfo=dt.UTC)
        assert account.tickets.filter(opened_at__lt=since).count() == 0
        assert account.usage.filter(week__lt=account.customer_since).count() == 0


def test_every_past_renewal_after_the_warm_up_has_an_outcome(book):
    today = NOW.date()
    first = START.date() + dt.timedelta(days=WARMUP_DAYS)
    outcomes = set(RenewalOutcome.objects.values_list("account_id", "renewal_date"))
    expected = set()
    for account in Account.objects.all():
        day = account.customer_since + dt.timedelta(days=365)
        while day <= account.renewal_date and day < today:
            if day >= first:
                expected.add((account.pk, day))
            day += dt.timedelta(days=365)
    assert outcomes == expected
    kinds = set(RenewalOutcome.objects.values_list("outcome", flat=True))
    assert kinds == {"renewed", "downsold", "churned"}
    assert not RenewalOutcome.objects.filter(renewal_date__lt=first).exists()


def test_live_accounts_renew_in_the_next_12_months(book):
    today = NOW.date()
    live = Account.objects.exclude(lifecycle_stage="churned")
    assert live.count() > 200
    for renewal in live.values_list("renewal_date", flat=True):
        assert today < renewal <= today + dt.timedelta(days=365)
    assert not RenewalOutcome.objects.filter(account__in=live, outcome="churned").exists()


def test_a_demo_login_does_not_rehash_the_password(db):
    # A re-hash on login (a salt too short for the hasher) logs out the user's other sessions.
    from django.contrib.auth.hashers import identify_hasher

    from accounts.demo import DEMO_PASSWORD, build_demo_book
    from csrisk.models import User

    build_demo_book(accounts=5, months=3, seed=1)
    stored = User.objects.get(username="csm1").password
    assert not identify_hasher(stored).must_update(stored)
    assert User.objects.get(username="csm1").check_password(DEMO_PASSWORD)
    assert User.objects.get(username="csm1").password == stored  # not re-hashed on login
