"""The loader reads only what the enabled measures read: each measure, given the facts
loaded for it alone, says exactly what it says given every fact."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from accounts.demo import build_demo_book
from accounts.models import Contact, ContactTitleChange
from csrisk import clock
from scorecards import measures, selectors
from scorecards.selectors import FRAME_READERS, FRAME_SQL, TICKET_GROUPS

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_every_frame_has_its_readers_and_every_reader_is_a_measure():
    assert set(FRAME_READERS) == set(FRAME_SQL)
    readers = {c for codes in (*FRAME_READERS.values(), *TICKET_GROUPS.values()) for c in codes}
    assert readers <= set(measures.MEASURES)


def test_each_measure_reads_only_the_frames_it_declares():
    with clock.frozen(NOW):
        build_demo_book(accounts=30, months=8, seed=4)  # every kind of fact but one:
        edm = next(c for c in Contact.objects.filter(at_company=True) if "edm" in c.roles)
        ContactTitleChange.objects.create(  # a key contact's title downgrade
            contact=edm, old_title="VP Operations", new_title="Manager", changed_on=NOW.date()
        )
        ids = selectors.active_account_ids()
        everything = selectors.load_frames(ids, NOW, measures.DEFAULT_THRESHOLDS)
        for t in measures.DEFAULT_THRESHOLDS:
            alone = selectors.load_frames(ids, NOW, [t])
            fn = measures.MEASURES[t.code]
            pd.testing.assert_frame_equal(fn(alone, t), fn(everything, t), obj=t.code)
    # the book has facts of every kind, so a measure reading an undeclared one would differ
    assert [n for n in FRAME_SQL if getattr(everything, n).empty] == []
