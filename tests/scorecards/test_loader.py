"""The loader reads only what the enabled measures read: each measure, given the facts
loaded for it alone, says exactly what it says given every fact."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from accounts.demo import build_demo_book
from accounts.models import Contact
from accounts.services import contact_update
from csrisk import clock
from csrisk.models import User
from scorecards import measures, selectors
from scorecards.models import AreaScore
from scorecards.selectors import FRAME_READERS, FRAME_SQL, TICKET_GROUPS
from tests.scorecards.framesbuilder import days_ago, write_tickets, write_usage

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_every_frame_has_its_readers_and_every_reader_is_a_measure():
    assert set(FRAME_READERS) == set(FRAME_SQL)
    readers = {c for codes in (*FRAME_READERS.values(), *TICKET_GROUPS.values()) for c in codes}
    assert readers <= set(measures.MEASURES)


def test_every_measure_declares_the_reads_it_waits_for():
    # a recompute on several connections runs each measure once its declared reads are in
    declared = {c for codes in (*FRAME_READERS.values(), *TICKET_GROUPS.values()) for c in codes}
    declared |= set(selectors.USAGE_READERS)
    assert set(measures.MEASURES) == declared
    assert selectors.measure_reads("support.noncritical_velocity") == {"tickets.velocity"}
    assert selectors.measure_reads("habits.usage_drop") == {"usage"}
    assert selectors.measure_reads("company.key_contact_left") == {"contacts", "people"}
    assert "tickets.state" in selectors.measure_reads("a.measure_declaring_nothing")


def test_each_measure_reads_only_the_frames_it_declares():
    with clock.frozen(NOW):
        build_demo_book(accounts=30, months=8, seed=4)  # every kind of fact but one:
        edm = next(c for c in Contact.objects.filter(at_company=True) if "edm" in c.roles)
        vp = User.objects.get(username="vp")
        contact_update(contact=edm, by=vp, title="Manager")  # a key contact downgraded
        ids = selectors.active_account_ids()
        everything = selectors.load_frames(ids, NOW, measures.DEFAULT_THRESHOLDS)
        for t in measures.DEFAULT_THRESHOLDS:
            alone = selectors.load_frames(ids, NOW, [t])
            fn = measures.MEASURES[t.code]
            pd.testing.assert_frame_equal(fn(alone, t), fn(everything, t), obj=t.code)
    # the book has facts of every kind, so a measure reading an undeclared one would differ
    assert [n for n in FRAME_SQL if getattr(everything, n).empty] == []


def test_ids_read_by_range_keep_only_the_accounts_asked_for():
    # 1 and 3 of 1..3 fill most of the range: the statements read the range, and account 2
    # (not asked for) is dropped from every aggregate and from the stored state
    write_tickets([{"account_id": a, "opened_at": days_ago(3)} for a in (1, 2, 3)])
    write_usage(
        [
            {"account_id": a, "week": days_ago(7).date(), "active_users": 5, "licensed_users": 10}
            for a in (1, 2, 3)
        ]
    )
    for a in (1, 2, 3):
        AreaScore.objects.create(
            account_id=a,
            area="support",
            color="green",
            score=100,
            computed_color="green",
            computed_score=100,
            changed_at=NOW,
            computed_at=NOW,
        )
    assert selectors._dense([1, 3]) and not selectors._dense([1, 9])
    t = measures.DEFAULT_THRESHOLDS
    assert sorted(selectors.ticket_stats([1, 3], NOW, t).index) == [1, 3]
    assert sorted(selectors.usage_stats([1, 3], NOW, t).index) == [1, 3]
    scores = selectors.stored_areas([1, 3])
    assert sorted(scores["account_id"]) == [1, 3]
    assert sorted(selectors.ticket_stats([1, 2, 3], NOW, t).index) == [1, 2, 3]


def test_sparse_ids_read_only_those_accounts_within_their_range():
    # 2 and 9 of 1..10 are sparse: the statements read the ids among 2..9, so an account
    # outside the range (1, 10) and one inside it that was not asked for (5) are both left out
    accounts = (1, 2, 5, 9, 10)
    write_tickets([{"account_id": a, "opened_at": days_ago(3)} for a in accounts])
    write_usage(
        [
            {"account_id": a, "week": days_ago(7).date(), "active_users": 5, "licensed_users": 10}
            for a in accounts
        ]
    )
    assert not selectors._dense([2, 9])
    t = measures.DEFAULT_THRESHOLDS
    assert sorted(selectors.ticket_stats([2, 9], NOW, t).index) == [2, 9]
    assert sorted(selectors.usage_stats([2, 9], NOW, t).index) == [2, 9]
    velocity = next(x for x in t if x.code == "support.noncritical_velocity")
    assert sorted(selectors.velocity_latest([9, 2], NOW, velocity)) == [2, 9]
    assert selectors.velocity_latest([], NOW, velocity) == {}
    assert selectors.ticket_stats([], NOW, t).empty
