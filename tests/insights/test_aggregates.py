"""Segment aggregates: velocity and adoption per segment and week, recurring complaints."""

from __future__ import annotations

import datetime as dt

from accounts.models import Ticket, UsageSnapshot
from insights import aggregates
from tests.conftest import login
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 11, 4, 12, 0, tzinfo=dt.UTC)  # a Wednesday; last week end Nov 1


def ticket(account, days_ago: float, priority: str = "normal", tags=()):
    return Ticket.objects.create(
        account=account,
        opened_at=NOW - dt.timedelta(days=days_ago),
        priority=priority,
        tags=list(tags),
    )


def test_velocity_per_segment_uses_the_account_formula_summed(org):
    a = AccountFactory(owner=org.csm_a, segment="enterprise")
    b = AccountFactory(owner=org.csm_a, segment="enterprise")
    AccountFactory(owner=org.csm_a, segment="smb")  # a segment with no tickets
    # week end Nov 1: recent window (Aug 3, Nov 1], before window (May 5, Aug 3]
    for i in range(20):
        ticket(a if i % 2 else b, days_ago=10 + i)  # 20 recent
    for i in range(10):
        ticket(a, days_ago=100 + i)  # 10 before
    ticket(a, days_ago=5, priority="urgent")  # critical: not counted
    trends = {t.segment: t for t in aggregates.segment_trends(now=NOW)}
    assert trends["enterprise"].weeks[-1] == dt.date(2026, 11, 1)
    assert trends["enterprise"].velocity_now == (20 - 10) / 10
    assert trends["enterprise"].accounts == 2
    assert trends["smb"].velocity_now == 0.0


def test_a_small_count_is_floored(org):
    a = AccountFactory(owner=org.csm_a, segment="mid_market")
    for i in range(3):
        ticket(a, days_ago=10 + i)
    ticket(a, days_ago=120)
    trend = next(t for t in aggregates.segment_trends(now=NOW) if t.segment == "mid_market")
    assert trend.velocity_now == (3 - 1) / 8  # not +200%


def test_adoption_is_the_mean_share_of_active_users_per_week(org):
    a = AccountFactory(owner=org.csm_a, segment="smb")
    b = AccountFactory(owner=org.csm_a, segment="smb")
    monday = dt.date(2026, 10, 26)  # the week ending Sunday Nov 1
    UsageSnapshot.objects.create(account=a, week=monday, active_users=5, licensed_users=10)
    UsageSnapshot.objects.create(account=b, week=monday, active_users=9, licensed_users=10)
    trend = next(t for t in aggregates.segment_trends(now=NOW) if t.segment == "smb")
    assert trend.adoption_now == 0.7
    assert trend.adoption[-2] is None


def test_recurring_complaints_span_accounts_and_segments(org):
    accounts = [
        AccountFactory(owner=org.csm_a, segment=s) for s in ("smb", "smb", "enterprise", "smb")
    ]
    for account in accounts[:3]:
        ticket(account, days_ago=3, tags=["sso", "login"])
    ticket(accounts[3], days_ago=3, tags=["export"])
    ticket(accounts[3], days_ago=200, tags=["sso"])  # too old
    complaints = aggregates.recurring_complaints(now=NOW)
    assert [(c.tag, c.accounts, c.segments) for c in complaints] == [
        ("login", 3, ["Enterprise", "SMB"]),
        ("sso", 3, ["Enterprise", "SMB"]),
    ]


def test_the_page_shows_segments_and_complaints(org):
    a = AccountFactory(owner=org.csm_a, segment="enterprise")
    for _ in range(3):
        ticket(AccountFactory(owner=org.csm_a, segment="smb"), days_ago=2, tags=["billing"])
    ticket(a, days_ago=2)
    html = login(org.support).get("/signals/segments/").content.decode()
    assert "Signals by segment" in html and "Enterprise" in html
    assert "billing" in html
