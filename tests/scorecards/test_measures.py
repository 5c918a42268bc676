"""A hand-computed case for every area's measures, on plain data. Hand-made tickets go
through the test database, since the database aggregates tickets per account."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from accounts.models import Ticket
from scorecards import measures as m
from scorecards.selectors import deferred_links, ticket_stats
from tests.scorecards.framesbuilder import NOW, build, days_ago, write_tickets

T = {t.code: t for t in m.DEFAULT_THRESHOLDS}
pytestmark = pytest.mark.django_db


def row(df: pd.DataFrame, account_id: int) -> dict:
    return df.loc[account_id].to_dict()


def test_classify_bands_for_higher_is_worse():
    t = m.Threshold("x", "support", "x", yellow_at=0.5, red_at=1.0, best=-0.5)
    colors, scores = m.classify(pd.Series([-0.5, 0.0, 0.5, 0.75, 1.0, 1.75, 9.0]), t)
    assert list(colors) == ["green", "green", "yellow", "yellow", "red", "red", "red"]
    # green 70..100 from yellow_at to best; yellow 69..40; red 39..0 over one more span
    assert list(scores) == [100, 85, 69, 54, 39, 0, 0]


def test_classify_bands_for_lower_is_worse():
    t = m.Threshold("x", "habits", "x", yellow_at=0.6, red_at=0.4, higher_is_worse=False, best=1.0)
    colors, scores = m.classify(pd.Series([1.0, 0.8, 0.6, 0.5, 0.4, 0.0]), t)
    assert list(colors) == ["green", "green", "yellow", "yellow", "red", "red"]
    assert list(scores) == [100, 85, 69, 54, 39, 0]


def test_habits_usage_drop_compares_last_4_weeks_with_8_before():
    weeks = [(NOW - dt.timedelta(days=7 * k)).date() for k in range(12)]
    # recent 4 weeks average 60; the 8 before average 100 → down 40% → red (≥ 30%)
    usage = [
        {"account_id": 1, "week": w, "active_users": 60 if k < 4 else 100, "licensed_users": 200}
        for k, w in enumerate(weeks)
    ]
    out = m.usage_drop(build([1, 2], usage=usage), T["habits.usage_drop"])
    r = row(out, 1)
    assert r["value"] == pytest.approx(0.4)
    assert r["color"] == "red"
    assert r["sentence"] == (
        "Avg 60 active users over the last 4 weeks vs 100 the 8 weeks before (-40%)"
    )
    assert row(out, 2)["sentence"] == "No usage data for the last 12 weeks."
    assert row(out, 2)["color"] == "green"


def test_habits_license_utilization_reads_the_latest_week():
    usage = [
        {
            "account_id": 1,
            "week": (NOW - dt.timedelta(days=14)).date(),
            "active_users": 90,
            "licensed_users": 100,
        },
        {
            "account_id": 1,
            "week": (NOW - dt.timedelta(days=3)).date(),
            "active_users": 40,
            "licensed_users": 100,
        },
    ]
    r = row(m.license_utilization(build([1], usage=usage), T["habits.license_utilization"]), 1)
    assert (r["value"], r["color"]) == (0.4, "yellow")  # 0.3 < 0.4 <= 0.5
    assert r["sentence"].startswith("40 of 100 licensed users active in the week of")
    assert r["sentence"].endswith("(40%)")


def test_sentiment_nps_level_and_drop_read_nps_answers_only():
    sentiment = [
        # before window (90–180 days ago): 9 and 9 → 9.0; recent: 5 → 5.0
        {"account_id": 1, "responded_at": days_ago(150), "nps": 9},
        {"account_id": 1, "responded_at": days_ago(100), "nps": 9},
        {"account_id": 1, "responded_at": days_ago(20), "nps": 5},
        # a CSAT answer is another survey: no NPS measure reads it
        {"account_id": 1, "responded_at": days_ago(10), "csat": 1},
    ]
    f = build([1, 2], sentiment=sentiment)
    nps_level = m.nps_level(f, T["sentiment.nps_level"])
    level = row(nps_level, 1)
    assert level["value"] == pytest.approx(23 / 3)  # (9+9+5)/3 over 180 days
    assert level["color"] == "green"  # > 7
    assert level["sentence"] == "3 NPS answers in the last 180 days, average 7.7"
    assert row(nps_level, 2)["sentence"] == "No NPS responses in the window."
    # one answer lately is too few to judge a trend (min_answers 2): with one needed, red
    one_answer = m.Threshold(**{**T["sentiment.nps_drop"].__dict__, "params": {"min_answers": 1}})
    drop = row(m.nps_drop(f, one_answer), 1)
    assert drop["value"] == pytest.approx(4.0)
    assert drop["color"] == "red"  # ≥ 4 points
    assert drop["sentence"] == (
        "1 NPS answer in the last 90 days averaging 5.0 vs 2 before averaging 9.0 (down 4.0 points)"
    )
    assert row(m.nps_drop(f, T["sentiment.nps_drop"]), 1)["no_data"]


def test_sentiment_csat_is_the_satisfied_share_and_its_drop_in_points():
    def answers(account_id: int, days: float, ratings: list[int]) -> list[dict]:
        return [
            {"account_id": account_id, "responded_at": days_ago(days + k), "csat": c}
            for k, c in enumerate(ratings)
        ]

    sentiment = [
        # account 1 — before (90–180 days ago): 5, 4, 4, 4, 2 → 4 of 5 satisfied (80%);
        # last 90 days: 5, 3, 2, 4, 1 → 2 of 5 (40%): red (≤ 40%), down 40 points: red (≥ 35)
        *answers(1, 120, [5, 4, 4, 4, 2]),
        *answers(1, 10, [5, 3, 2, 4, 1]),
        # account 2 — only two answers lately (5 needed): too few to judge, and no trend
        *answers(2, 10, [1, 1]),
        # account 3 — 4 of 5 satisfied (80%): green; an NPS answer changes nothing
        *answers(3, 30, [5, 5, 4, 4, 3]),
        {"account_id": 3, "responded_at": days_ago(5), "nps": 0},
    ]
    f = build([1, 2, 3], sentiment=sentiment)
    level = m.csat_level(f, T["sentiment.csat_level"])
    one = row(level, 1)
    assert one["value"] == pytest.approx(0.4)
    assert one["color"] == "red"
    assert one["sentence"] == "2 of 5 CSAT answers satisfied (4–5 of 5) in the last 90 days (40%)"
    links = m.ref_links(one["ref_type"], one["ref_ids"])  # the five latest answers
    assert len(links) == 5 and {r["type"] for r in links} == {"sentiment"}
    two = row(level, 2)
    assert (two["color"], two["no_data"], two["sentence"]) == (
        "green",
        True,
        "0 of 2 CSAT answers satisfied (4–5 of 5) in the last 90 days: too few to judge, "
        "at least 5 needed",
    )
    three = row(level, 3)
    assert (three["value"], three["color"]) == (pytest.approx(0.8), "green")
    # 4 of 5 → 2 of 5 happens one time in four by chance: at 70% confidence it is red
    loose = m.Threshold(
        **{**T["sentiment.csat_drop"].__dict__, "params": {"min_answers": 5, "confidence": 0.7}}
    )
    drop = m.csat_drop(f, loose)
    assert row(drop, 1)["value"] == pytest.approx(0.4)
    assert row(drop, 1)["color"] == "red"
    assert row(drop, 1)["sentence"] == (
        "2 of 5 CSAT answers satisfied in the last 90 days vs 4 of 5 before "
        "(40% vs 80%, down 40 points)"
    )
    assert row(drop, 2)["sentence"] == "Not enough CSAT answers to see a trend."
    assert row(drop, 3)["color"] == "green"


def test_company_decision_maker_left_is_red_and_champion_yellow():
    contacts = [
        {
            "id": 1,
            "account_id": 1,
            "name": "Ann",
            "title": "CFO",
            "roles": ["edm"],
            "at_company": False,
            "left_on": (NOW - dt.timedelta(days=30)).date(),
        },
        {
            "id": 2,
            "account_id": 2,
            "name": "Bob",
            "title": "Head of IT",
            "roles": ["champion"],
            "at_company": False,
            "left_on": (NOW - dt.timedelta(days=10)).date(),
        },
        {
            "id": 3,
            "account_id": 3,
            "name": "Cy",
            "roles": ["edm"],
            "at_company": False,
            "left_on": (NOW - dt.timedelta(days=400)).date(),
        },
    ]
    out = m.key_contact_left(build([1, 2, 3], contacts=contacts), T["company.key_contact_left"])
    assert row(out, 1)["color"] == "red"
    assert row(out, 1)["sentence"] == "Executive Decision Maker Ann (CFO) left on 2026-10-02"
    assert row(out, 2)["color"] == "yellow"
    assert row(out, 3)["color"] == "green"  # left long ago: outside the 180-day window


def test_company_title_downgrade_and_missing_decision_maker():
    contacts = [
        {"id": 1, "account_id": 1, "name": "Dee", "title": "Senior Manager", "roles": ["champion"]}
    ]
    changes = [
        {
            "id": 1,
            "contact_id": 1,
            "account_id": 1,
            "change": "title_changed",
            "roles": ["champion"],
            "old_title": "Head of Data",
            "new_title": "Senior Manager",
            "occurred_at": NOW - dt.timedelta(days=5),
        },
        {  # a contact nobody had on record: the change alone says who they were
            "id": 2,
            "contact_id": None,
            "account_id": 2,
            "change": "title_changed",
            "roles": ["edm"],
            "old_title": "VP Finance",
            "new_title": "Finance Manager",
            "occurred_at": NOW - dt.timedelta(days=5),
        },
        {  # not a key contact then
            "id": 3,
            "contact_id": None,
            "account_id": 3,
            "change": "title_changed",
            "roles": ["user"],
            "old_title": "Head of Data",
            "new_title": "Analyst",
            "occurred_at": NOW - dt.timedelta(days=5),
        },
    ]
    f = build([1, 2, 3], contacts=contacts, people=changes)
    out = m.title_downgrade(f, T["company.title_downgrade"])
    down = row(out, 1)
    assert (down["value"], down["color"]) == (1.0, "yellow")
    assert down["sentence"].startswith("Dee: “Head of Data” → “Senior Manager”")
    assert row(out, 2)["sentence"].startswith("A key contact: “VP Finance” → “Finance Manager”")
    assert row(out, 3)["color"] == "green"
    missing = row(m.no_edm(f, T["company.no_edm"]), 1)
    assert (missing["color"], missing["no_data"], missing["sentence"]) == (
        "green",
        True,  # a gap in the CRM, not a risk
        "No Executive Decision Maker on record: add one",
    )


def test_seniority_ranks_titles():
    assert [
        m.seniority(t)
        for t in ("Chief Operating Officer", "VP Sales", "Head of IT", "IT Manager", "Analyst")
    ] == [5, 4, 3, 2, 1]


def test_support_velocity_counts_non_critical_tickets_with_a_floor():
    tickets = (
        # account 1: 28 normal in the last 90 days vs 10 before → (28-10)/10 = +180% → red
        [{"account_id": 1, "opened_at": days_ago(5 + i)} for i in range(28)]
        + [{"account_id": 1, "opened_at": days_ago(100 + i)} for i in range(10)]
        # urgent tickets are critical: they do not count
        + [{"account_id": 1, "opened_at": days_ago(3), "priority": "urgent"}] * 5
        # account 2: 1 → 3 is +2 over the floor of 8 → +25% → green
        + [{"account_id": 2, "opened_at": days_ago(10 + i)} for i in range(3)]
        + [{"account_id": 2, "opened_at": days_ago(120)}]
    )
    out = m.noncritical_velocity(build([1, 2], tickets=tickets), T["support.noncritical_velocity"])
    one = row(out, 1)
    assert one["value"] == pytest.approx(1.8)
    assert one["color"] == "red"
    assert one["sentence"] == "28 non-critical tickets in the last 90 days vs 10 before (+180%)"
    assert row(out, 2)["value"] == pytest.approx(0.25)
    assert row(out, 2)["color"] == "green"
    # the links are deferred: a signature now, the five latest non-critical tickets of the
    # last 90 days when a reason is stored (the urgent ones 3 days ago are not among them)
    assert one["ref_type"] == "ticket" and one["ref_ids"].startswith(m.DEFERRED)
    assert m.ref_links(one["ref_type"], one["ref_ids"]) == []
    found = deferred_links(
        "support.noncritical_velocity", [1, 2], now=NOW, measure_thresholds=m.DEFAULT_THRESHOLDS
    )
    latest = Ticket.objects.filter(account_id=1, priority="normal", opened_at__gt=days_ago(90))
    five = list(latest.order_by("-opened_at", "-id").values_list("id", flat=True)[:5])
    assert [r["id"] for r in m.ref_links("ticket", found[1])] == five
    assert len(m.ref_links("ticket", found[2])) == 3


def test_the_velocity_signature_moves_when_its_five_latest_tickets_can():
    t = T["support.noncritical_velocity"]

    def signature() -> str:
        return ticket_stats([1], NOW, [t]).loc[1, "v_refs"]

    write_tickets([{"account_id": 1, "opened_at": days_ago(5 + i)} for i in range(6)])
    first = signature()
    assert first.startswith(m.DEFERRED) and signature() == first  # nothing changed
    # the same counts (6 vs 0), another set: the oldest one gone, a newer one in
    Ticket.objects.filter(opened_at=days_ago(10)).delete()
    write_tickets([{"account_id": 1, "opened_at": days_ago(1)}])
    second = signature()
    assert second != first
    # the same set, one of them moved: the order of the links may have changed
    Ticket.objects.filter(opened_at=days_ago(9)).update(opened_at=days_ago(6.5))
    assert signature() != second
    # no non-critical ticket in the last 90 days: no links at all
    Ticket.objects.update(opened_at=days_ago(120))
    assert signature() == ""


def test_support_urgent_open():
    tickets = [{"account_id": 1, "priority": "urgent", "status": "open", "opened_at": days_ago(4)}]
    r = row(m.urgent_open(build([1], tickets=tickets), T["support.urgent_open"]), 1)
    assert (r["color"], r["sentence"]) == ("yellow", "1 urgent ticket open, the oldest for 4 days")


def test_implementation_late_milestones():
    milestones = [
        {"account_id": 1, "name": "Data migration", "due_on": (NOW - dt.timedelta(days=45)).date()},
        {"account_id": 1, "name": "SSO", "due_on": (NOW - dt.timedelta(days=3)).date()},
        {
            "account_id": 1,
            "name": "Done",
            "due_on": (NOW - dt.timedelta(days=90)).date(),
            "completed_on": (NOW - dt.timedelta(days=80)).date(),
        },
        {"account_id": 2, "name": "Kickoff", "due_on": (NOW + dt.timedelta(days=3)).date()},
    ]
    out = m.late_milestones(
        build([1, 2], milestones=milestones), T["implementation.late_milestones"]
    )
    assert row(out, 1)["color"] == "red"  # 45 days ≥ 30
    assert row(out, 1)["sentence"] == "2 milestones late; “Data migration” 45 days overdue"
    assert row(out, 2)["color"] == "green"


def test_readiness_uses_the_weakest_dimension_of_the_latest_assessment():
    readiness = [
        {
            "id": 1,
            "account_id": 1,
            "assessed_on": dt.date(2026, 1, 1),
            "data": 1,
            "skills": 1,
            "staffing": 1,
        },
        {
            "id": 2,
            "account_id": 1,
            "assessed_on": dt.date(2026, 9, 1),
            "data": 4,
            "skills": 3,
            "staffing": 5,
        },
    ]
    r = row(m.readiness_assessment(build([1], readiness=readiness), T["readiness.assessment"]), 1)
    assert (r["value"], r["color"]) == (3.0, "yellow")
    assert r["sentence"] == "Readiness 3/5 on skills (assessed 2026-09-01)"


def test_product_competitor_exposure_is_recency_weighted():
    competitors = [
        # evaluation 45 days ago: 3 × 0.5 = 1.5; mention today: 1 × 1 = 1 → 2.5 → red
        {
            "account_id": 1,
            "competitor": "Rivalsoft",
            "activity": "evaluation",
            "occurred_at": days_ago(45),
        },
        {"account_id": 1, "competitor": "Rivalsoft", "activity": "mention", "occurred_at": NOW},
    ]
    r = row(
        m.competitor_exposure(
            build([1], competitors=competitors), T["product.competitor_exposure"]
        ),
        1,
    )
    assert r["value"] == pytest.approx(2.5)
    assert r["color"] == "red"
    assert r["sentence"].startswith("Evaluation of Rivalsoft (45 days ago); 2 competitor events")


def test_defect_open_defects_by_severity():
    tickets = [
        {
            "account_id": 1,
            "kind": "defect",
            "priority": "high",
            "status": "open",
            "opened_at": days_ago(3),
        },
        {
            "account_id": 1,
            "kind": "defect",
            "priority": "normal",
            "status": "new",
            "opened_at": days_ago(2),
        },
        {
            "account_id": 1,
            "kind": "defect",
            "priority": "urgent",
            "status": "solved",
            "opened_at": days_ago(9),
        },
    ]
    r = row(m.open_defects(build([1], tickets=tickets), T["defect.open_defects"]), 1)
    assert r["value"] == 3.0  # high 2 + normal 1; the solved urgent one is closed
    assert r["color"] == "yellow"
    assert r["sentence"] == "2 open defects: 1 high, 1 normal"


def test_every_measure_answers_for_every_account_even_with_no_data():
    f = build([7, 8])
    every = [replace(t, enabled=True) for t in m.DEFAULT_THRESHOLDS]  # the ones shipped off too
    out = m.run_measures(f, every)
    assert len(out) == 2 * len(every)
    assert set(out["color"]) == {"green"}  # no data is never risk
    no_edm_rows = out[out["measure"] == "company.no_edm"]
    assert no_edm_rows["no_data"].all()  # nobody on record: a gap in the data
    assert all(isinstance(s, str) and s for s in out["sentence"])


def test_measures_only_see_facts_that_existed_at_their_time():
    contacts = [
        {
            "id": 1,
            "account_id": 1,
            "name": "Ann",
            "title": "CFO",
            "roles": ["edm"],
            "at_company": False,
            "left_on": (NOW + dt.timedelta(days=5)).date(),
        }
    ]
    tickets = (
        [{"account_id": 1, "opened_at": NOW + dt.timedelta(days=1)}] * 30  # the future
        + [
            {
                "account_id": 1,
                "kind": "defect",
                "priority": "urgent",
                "opened_at": days_ago(5),
                "status": "solved",
                "solved_at": NOW + dt.timedelta(days=2),
            }
        ]  # open back then
    )
    out = m.run_measures(build([1], contacts=contacts, tickets=tickets), m.DEFAULT_THRESHOLDS)
    by = out.set_index("measure")
    assert by.loc["company.key_contact_left", "color"] == "green"  # Ann was still there
    assert by.loc["company.no_edm", "color"] == "green"
    assert by.loc["support.noncritical_velocity", "sentence"] == (
        "No support tickets in the last 180 days."
    )
    assert by.loc["defect.open_defects", "sentence"] == "1 open defect: 1 urgent"


def test_support_resolution_time_trend_compares_median_days():
    def solved(account: int, opened: float, days: float) -> dict:
        return {
            "account_id": account,
            "opened_at": days_ago(opened),
            "solved_at": days_ago(opened - days),
        }

    # account 1: median 2 days before, 5 days in the last 90 → (5 − 2) / 2 = +150% → red
    tickets = [solved(1, 150 + i, 2) for i in range(5)] + [solved(1, 40 + i, 5) for i in range(5)]
    # account 2: too few solved tickets in the earlier window → no value
    tickets += [solved(2, 150, 1)] + [solved(2, 40 + i, 9) for i in range(3)]
    t = T["support.resolution_time_trend"]
    out = m.resolution_time_trend(build([1, 2], tickets=tickets), t)
    one = row(out, 1)
    assert one["value"] == pytest.approx(1.5)
    assert one["color"] == "red"
    assert one["sentence"] == (
        "5 support tickets solved in the last 90 days vs 5 before, median 5.0 days vs 2.0 "
        "(slower, +150%)"
    )
    assert row(out, 2)["no_data"]
    assert row(out, 2)["sentence"].startswith("3 support tickets solved in the last 90 days")


def test_support_recurrence_counts_one_tag_from_one_team():
    tickets = [
        {
            "account_id": 1,
            "tags": ["export", "csv"],
            "requester_group": "Finance",
            "opened_at": days_ago(5 + i),
        }
        for i in range(5)
    ]
    tickets += [
        {"account_id": 1, "tags": ["export"], "requester_group": "Sales", "opened_at": days_ago(3)}
    ]
    tickets += [
        {
            "account_id": 1,
            "tags": ["export"],
            "requester_group": "Finance",
            "opened_at": days_ago(200),
        }
    ]
    out = m.recurrence(build([1, 2], tickets=tickets), T["support.recurrence"])
    one = row(out, 1)
    assert one["value"] == 5
    assert one["color"] == "yellow"
    assert one["sentence"] in (
        "5 tickets tagged “csv” from Finance in 90 days",
        "5 tickets tagged “export” from Finance in 90 days",
    )
    assert row(out, 2)["sentence"] == "No tagged support tickets recently."
    one_ticket = [{"account_id": 2, "tags": ["sso"], "requester_group": "IT", "opened_at": NOW}]
    out = m.recurrence(build([2], tickets=one_ticket), T["support.recurrence"])
    assert row(out, 2)["sentence"] == "1 ticket tagged “sso” from IT in 90 days"


def test_company_competitor_executive_reads_the_configured_list():
    people = [
        {
            "account_id": 1,
            "change": "joined",
            "occurred_at": days_ago(20),
            "from_company": "Initech",
        },
        {"account_id": 1, "change": "joined", "occurred_at": days_ago(30), "from_company": "Acme"},
        {
            "account_id": 2,
            "change": "joined",
            "occurred_at": days_ago(400),
            "from_company": "initech",
        },
    ]
    t = T["company.competitor_executive"]
    unconfigured = m.competitor_executive(build([1, 2], people=people), t)
    assert row(unconfigured, 1)["color"] == "green"
    configured = m.Threshold(**{**t.__dict__, "params": {"competitor_customers": ["initech"]}})
    out = m.competitor_executive(build([1, 2], people=people), configured)
    one = row(out, 1)
    assert (one["value"], one["color"]) == (1, "yellow")
    assert one["sentence"] == (
        "1 new person from a competitor's customer base, latest from Initech (20 days ago)"
    )
    assert row(out, 2)["color"] == "green"  # too long ago


def test_habits_adoption_trend_compares_last_4_weeks_with_8_before():
    weeks = [(NOW - dt.timedelta(days=7 * k)).date() for k in range(12)]
    # recent 4 weeks adopt 45% of key features, the 8 before 60% → 15 points down → yellow
    usage = [
        {
            "account_id": 1,
            "week": w,
            "active_users": 50,
            "licensed_users": 100,
            "adoption": 0.45 if k < 4 else 0.60,
        }
        for k, w in enumerate(weeks)
    ] + [  # account 2 reports no adoption at all
        {"account_id": 2, "week": w, "active_users": 5, "licensed_users": 10} for w in weeks
    ]
    out = m.adoption_trend(build([1, 2, 3], usage=usage), T["habits.adoption_trend"])
    r = row(out, 1)
    assert r["value"] == pytest.approx(0.15)
    assert r["color"] == "yellow"  # 0.10 <= 0.15 < 0.20
    assert r["sentence"] == (
        "Key-feature adoption 45% over the last 4 weeks vs 60% the 8 weeks before (down 15 points)"
    )
    for other in (2, 3):
        assert row(out, other)["color"] == "green"
        assert row(out, other)["sentence"] == "No feature-adoption figures for the last 12 weeks."


def test_it_reads_a_missing_decision_maker_as_a_gap_in_the_data_not_as_risk():
    """No Executive Decision Maker on record is a hole in the CRM, not a customer at risk:
    a no-data row (green, score 100) whose sentence says how to fill the hole."""
    contacts = [
        {"id": 1, "account_id": 1, "name": "Ann", "roles": ["user"], "at_company": True},
        {"id": 2, "account_id": 3, "name": "Bo", "roles": ["edm"], "at_company": True},
    ]
    out = m.no_edm(build([1, 2, 3], contacts=contacts), T["company.no_edm"])
    no_edm, nobody, known = row(out, 1), row(out, 2), row(out, 3)
    assert (no_edm["color"], no_edm["score"], no_edm["no_data"]) == ("green", 100, True)
    assert no_edm["sentence"] == "No Executive Decision Maker on record: add one"
    assert (nobody["color"], nobody["score"], nobody["no_data"]) == ("green", 100, True)
    assert nobody["sentence"] == "No contacts on record: add the decision maker"
    assert (known["color"], known["no_data"]) == ("green", False)
    assert known["sentence"] == "Executive Decision Maker on record"


def test_a_change_of_one_point_says_point():
    from scorecards.measures import _change

    assert _change(1.0) == "down 1 point"
    assert _change(-0.8) == "up 1 point"
    assert _change(12.0) == "down 12 points"
    assert _change(4.5, digits=1) == "down 4.5 points"
    assert _change(0.2) == "no change"
