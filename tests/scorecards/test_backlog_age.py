"""The worked example of a declared measure: ticket backlog age, with its own SQL aggregate.

One declaration (scorecards.measures.DECLARED), this test and the config migration
(scorecards 0011) are all it took; the loader, the recompute, the config seed and the
measures reference pick it up from the declaration.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from accounts.models import Ticket
from scorecards import measures as m
from scorecards import selectors
from scorecards.models import MeasureConfig
from tests.scorecards.framesbuilder import NOW, build, days_ago, write_tickets

pytestmark = pytest.mark.django_db
CODE = "support.backlog_age"
T = replace(m.DECLARATIONS[CODE].default, enabled=True)  # shipped off


def row(out, account_id: int) -> dict:
    return out.loc[account_id].to_dict()


def test_it_is_declared_once_and_derived_everywhere():
    assert m.MEASURES[CODE] is m.backlog_age
    assert m.DECLARATIONS[CODE].default in m.DEFAULT_THRESHOLDS
    assert selectors.TICKET_GROUPS[CODE] == (CODE,)
    assert selectors.measure_reads(CODE) == {f"tickets.{CODE}"}
    # seeded, switched off until a team turns it on
    assert MeasureConfig.objects.filter(code=CODE, yellow_at=30, red_at=60, enabled=False).exists()


def test_it_takes_the_median_age_of_open_non_urgent_support_tickets():
    ages = [10, 20, 40, 50]  # median 30 days: yellow at 30
    tickets = [{"account_id": 1, "status": "open", "opened_at": days_ago(a)} for a in ages] + [
        # not counted: urgent, solved, a defect, opened after now
        {"account_id": 1, "status": "open", "priority": "urgent", "opened_at": days_ago(300)},
        {"account_id": 1, "status": "solved", "opened_at": days_ago(200), "solved_at": days_ago(1)},
        {"account_id": 1, "status": "open", "kind": "defect", "opened_at": days_ago(250)},
        {"account_id": 1, "status": "open", "opened_at": days_ago(-2)},
        # counted: solved only after now, so open then (point in time)
        {"account_id": 1, "status": "solved", "opened_at": days_ago(35), "solved_at": days_ago(-1)},
    ]
    out = m.backlog_age(build([1], tickets=tickets, thresholds=[T]), T)
    one = row(out, 1)
    assert one["value"] == pytest.approx(35.0)  # median of 10, 20, 35, 40, 50
    assert one["color"] == "yellow"
    assert one["sentence"] == "5 open non-urgent tickets, waiting 35 days at the median"
    oldest = list(
        Ticket.objects.filter(opened_at__in=[days_ago(a) for a in (50, 40, 35, 20, 10)])
        .order_by("opened_at")
        .values_list("pk", flat=True)
    )
    assert [ref["id"] for ref in m.ref_links(one["ref_type"], one["ref_ids"])] == oldest


def test_it_says_no_data_below_the_minimum_of_open_tickets():
    tickets = [{"account_id": 1, "status": "open", "opened_at": days_ago(a)} for a in (90, 120)]
    one = row(m.backlog_age(build([1], tickets=tickets, thresholds=[T]), T), 1)
    assert (one["color"], one["sentence"]) == ("green", m._NO_BACKLOG)
    assert one["value"] != one["value"]  # NaN: no value


def test_a_recompute_reads_it_like_any_other_measure_once_switched_on():
    frames = selectors.load_frames([1], NOW)
    assert CODE not in set(m.run_measures(frames, selectors.thresholds())["measure"])
    MeasureConfig.objects.filter(code=CODE).update(enabled=True)
    write_tickets(
        [{"account_id": 1, "status": "open", "opened_at": days_ago(a)} for a in (70, 80, 90)]
    )
    frames = selectors.load_frames([1], NOW)  # the configured thresholds, from the seed
    rows = m.run_measures(frames, selectors.thresholds())
    backlog = rows[rows["measure"] == CODE].iloc[0]
    assert (backlog["area"], backlog["value"], backlog["color"]) == ("support", 80.0, "red")
