"""The executive summary's figures on a hand-made book, and who may see them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.choices import LifecycleStage
from accounts.models import CompetitorEvent, PeopleChange, Ticket
from csrisk import clock
from insights.summary import blind_spots, closeness, executive_summary, prioritised_actions
from tests.conftest import login
from tests.factories import AccountFactory
from tests.insights.helpers import NOW, book, days_ago

K = Decimal("1000")


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def by_key(buckets):
    return {b.key: b for b in buckets}


def test_it_totals_arr_at_risk_now_and_30_and_90_days_ago(org):
    book(org)
    s = executive_summary(NOW)
    assert s.total.total == 180 * K  # the churned account is not in the book
    assert (s.total.red, s.total.yellow, s.total.at_risk) == (100 * K, 50 * K, 150 * K)
    # 30 days ago: alpha yellow, beta yellow, gamma red → 180k at risk.
    assert (s.total.red_30, s.total.yellow_30) == (30 * K, 150 * K)
    assert s.total.change_30 == -30 * K
    # 90 days ago: alpha green, beta yellow, gamma red → 80k at risk.
    assert (s.total.red_90, s.total.yellow_90) == (30 * K, 50 * K)
    assert s.total.change_90 == 70 * K


def test_it_breaks_arr_at_risk_down_by_area_segment_team_and_quarter(org):
    book(org)
    s = executive_summary(NOW)
    area = by_key(s.by_area)
    assert (area["support"].red, area["support"].change_30) == (100 * K, 100 * K)
    assert (area["product"].yellow, area["product"].change_90) == (50 * K, 0)
    assert area["habits"].at_risk == 0
    segment = by_key(s.by_segment)
    assert segment["enterprise"].red == 100 * K
    assert segment["mid_market"].yellow == 50 * K
    assert segment["smb"].at_risk == 0 and segment["smb"].red_30 == 30 * K
    team = by_key(s.by_team)
    assert (team["CS A"].total, team["CS A"].at_risk) == (130 * K, 100 * K)
    assert team["CS B"].yellow == 50 * K
    quarter = by_key(s.by_quarter)
    assert quarter["2026-Q3"].red == 100 * K
    assert quarter["2026-Q4"].yellow == 50 * K
    assert quarter["No renewal date"].total == 30 * K


def test_it_draws_the_at_risk_trend_from_the_colour_history(org):
    book(org)
    trend = executive_summary(NOW).trend
    assert len(trend) == 14
    assert trend[-1].at_risk == 150 * K  # today
    assert trend[-5].at_risk == 180 * K  # 28 days ago: alpha yellow, beta yellow, gamma red
    assert trend[0].at_risk == 80 * K  # 91 days ago


def test_it_counts_open_escalations_and_sponsor_coverage(org):
    book(org)
    s = executive_summary(NOW)
    assert [e["n"] for e in s.escalations] == [0, 0, 0]
    assert s.coverage["program"] is None


def test_it_finds_green_accounts_with_danger_underneath(org):
    b = book(org)
    gamma = b["gamma"]
    # 10 non-critical tickets in the last 90 days vs 0 before: (10 - 0) / max(0, 8) = +125%.
    for i in range(10):
        Ticket.objects.create(account=gamma, opened_at=days_ago(5 + i))
    CompetitorEvent.objects.create(
        account=gamma, competitor="Rival", activity="mention", occurred_at=days_ago(3)
    )
    PeopleChange.objects.create(
        account=gamma, change="left", roles=["edm"], old_title="CFO", occurred_at=days_ago(8)
    )
    # A red account with the same facts is not a blind spot: the score sees it already.
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    # Too old to count.
    CompetitorEvent.objects.create(
        account=gamma, competitor="Old", activity="evaluation", occurred_at=days_ago(120)
    )
    spots = {(s.account, s.signal): s for s in blind_spots(NOW)}
    assert set(spots) == {("Gamma", "velocity"), ("Gamma", "competitor"), ("Gamma", "people")}
    assert spots[("Gamma", "velocity")].sentence == (
        "10 non-critical tickets in the last 90 days vs 0 before (+125% against a floor of 8)"
    )
    assert spots[("Gamma", "velocity")].on == days_ago(5).date()
    assert spots[("Gamma", "competitor")].sentence == "Mention of Rival"
    assert (
        spots[("Gamma", "people")].sentence
        == f"Executive Decision Maker CFO left on {days_ago(8).date()}"
    )
    assert spots[("Gamma", "people")].arr == 30 * K


def test_it_ignores_a_rise_in_tickets_too_small_to_judge(org):
    gamma = book(org)["gamma"]
    for i in range(2):  # 2 vs 0 → +25% (floor 8), but two tickets are no trend
        Ticket.objects.create(account=gamma, opened_at=days_ago(5 + i))
    assert blind_spots(NOW) == []
    assert [a for a in prioritised_actions(NOW) if a.signal == "velocity"] == []
    for i in range(5):  # 7 vs 0: a fair coin gives that one time in 128 → credible
        Ticket.objects.create(account=gamma, opened_at=days_ago(10 + i))
    assert [s.signal for s in blind_spots(NOW)] == ["velocity"]
    assert [a.account for a in prioritised_actions(NOW) if a.signal == "velocity"] == ["Gamma"]


def test_it_leaves_churned_and_non_green_accounts_out_of_blind_spots_and_actions(org):
    # The fact queries read their tables alone; the book decides who counts. A churned
    # account scored green, with every signal, shows up nowhere; a yellow one is no blind
    # spot but is an action.
    from sponsors.models import Sponsorship
    from tests.insights.helpers import card

    b = book(org)
    lost = AccountFactory(
        name="Lost", arr=Decimal("500000"), lifecycle_stage=LifecycleStage.CHURNED, owner=org.csm_a
    )
    card(lost, "green")
    for account in (lost, b["beta"]):
        for i in range(10):
            Ticket.objects.create(account=account, opened_at=days_ago(5 + i))
        CompetitorEvent.objects.create(
            account=account, competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
        )
        PeopleChange.objects.create(
            account=account, change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(8)
        )
        Sponsorship.objects.create(
            account=account, sponsor=org.executive, started_on=NOW.date() - dt.timedelta(days=200)
        )
    assert blind_spots(NOW) == []
    actions = prioritised_actions(NOW, limit=100)
    assert {a.account for a in actions} == {"Beta"}
    assert {a.signal for a in actions} == {"velocity", "competitor", "edm_left", "silent_sponsor"}


def test_it_lists_a_departure_only_as_the_measure_confirms_it(org):
    # The departures on record are candidates; the key_contact_left measure decides, and a
    # disabled measure says nothing at all.
    from scorecards.models import MeasureConfig

    b = book(org)
    PeopleChange.objects.create(
        account=b["beta"], change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(30)
    )
    PeopleChange.objects.create(  # a champion is not the decision maker
        account=b["alpha"],
        change="left",
        roles=["champion"],
        old_title="VP",
        occurred_at=days_ago(3),
    )
    actions = prioritised_actions(NOW, limit=100)
    assert [(a.account, a.signal) for a in actions if a.signal == "edm_left"] == [
        ("Beta", "edm_left")
    ]
    edm = next(a for a in actions if a.signal == "edm_left")
    assert edm.sentence.startswith("Executive Decision Maker")  # the measure's words
    assert MeasureConfig.objects.filter(code="company.key_contact_left").update(enabled=False)
    assert [a for a in prioritised_actions(NOW, limit=100) if a.signal == "edm_left"] == []


def test_it_ranks_actions_by_arr_severity_and_closeness_to_renewal(org):
    b = book(org)
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    PeopleChange.objects.create(
        account=b["beta"], change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(30)
    )
    actions = prioritised_actions(NOW)
    assert [(a.account, a.signal) for a in actions] == [
        ("Alpha", "competitor"),
        ("Beta", "edm_left"),
    ]
    alpha_days = (dt.date(2026, 7, 10) - NOW.date()).days  # 25
    assert actions[0].priority == pytest.approx(100_000 * 0.9 / (1 + alpha_days / 90))
    beta_days = (dt.date(2026, 12, 1) - NOW.date()).days
    assert actions[1].priority == pytest.approx(50_000 * 1.0 * closeness(beta_days))
    assert actions[0].response.escalate_to == 2


def test_it_breaks_ties_on_priority_by_name_among_every_tied_action(org):
    # Five accounts alike but for their names, created in reverse alphabetical order (so
    # the lowest ids carry the last names): the two actions kept are the first by name.
    names = ["Echo", "Delta", "Charlie", "Bravo", "Able"]
    for name in names:
        account = AccountFactory(
            name=name, arr=Decimal("40000"), owner=org.csm_a, renewal_date=None
        )
        CompetitorEvent.objects.create(
            account=account, competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
        )
    actions = prioritised_actions(NOW, limit=2)
    assert [a.account for a in actions] == ["Able", "Bravo"]
    assert actions[0].priority == actions[1].priority == pytest.approx(40_000 * 0.9 * 0.2)
    assert actions[0].days_to_renewal is None


@pytest.mark.parametrize("role", ["vp", "ceo", "executive"])
def test_it_shows_the_summary_to_leadership(org, role):
    book(org)
    response = login(getattr(org, role)).get("/summary/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Executive summary" in body and "100,000" in body and "<svg" in body


@pytest.mark.parametrize("role", ["csm_a", "lead_a", "support"])
def test_it_refuses_the_summary_to_others(org, role):
    assert login(getattr(org, role)).get("/summary/").status_code == 403
    assert login(getattr(org, role)).get("/summary/backtest/").status_code == 403
    assert login(getattr(org, role)).get("/summary/export.csv").status_code == 403


def test_it_sends_anonymous_people_to_log_in(client):
    assert client.get("/summary/").status_code == 302


def test_it_renders_in_a_constant_number_of_queries(org, django_assert_max_num_queries):
    book(org)
    client = login(org.vp)
    client.get("/summary/")  # warm the session and content types
    # 20 on PostgreSQL before renewal risk, + the latest predictions (one query)
    with django_assert_max_num_queries(21) as small:
        client.get("/summary/")
    from tests.factories import AccountFactory

    for _ in range(20):
        AccountFactory(owner=org.csm_b)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get("/summary/").status_code == 200


def test_it_exports_each_table_as_csv(org):
    book(org)
    client = login(org.vp)
    response = client.get("/summary/export.csv?table=segment")
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == (
        "segment,total_arr,red_arr,yellow_arr,at_risk_arr,change_30d,change_90d,expected_loss"
    )
    # No prediction yet: the expected loss is blank, not a zero risk.
    assert "Enterprise,100000.00,100000.00,0.00,100000.00,0.00,100000.00," in lines
    for table in ("area", "team", "quarter", "blind_spots", "actions"):
        assert client.get(f"/summary/export.csv?table={table}").status_code == 200
    assert client.get("/summary/export.csv?table=nope").status_code == 404


def test_it_prints_legibly(org):
    book(org)
    body = login(org.vp).get("/summary/").content.decode()
    assert 'class="no-print"' in body and "print-top" in body
    from pathlib import Path

    css = Path("static/css/app.css").read_text()
    assert "@page { size: A4 portrait" in css
    # no shrinking the page to fit: the browser journey checks every cell prints at 9 pt+
    assert "zoom: ." not in css


def test_it_says_no_history_rather_than_a_false_change(org):
    from scorecards.models import ColorChange

    book(org)
    ColorChange.objects.filter(at__lt=days_ago(30)).delete()  # scoring began 20 days ago
    s = executive_summary(NOW)
    assert s.total.change_30 is None and s.total.change_90 is None
    assert by_key(s.by_area)["support"].change_30 is None
    assert len(s.trend) == 3  # 14 and 7 days ago, and today
    body = login(org.vp).get("/summary/").content.decode()
    assert "no history" in body


def test_it_shows_the_summary_in_the_navigation_to_leadership_only(org):
    assert b'href="/summary/"' in login(org.vp).get("/accounts/").content
    assert b'href="/summary/"' not in login(org.csm_a).get("/accounts/").content
