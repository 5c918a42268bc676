"""The executive summary over the API: the page's numbers, table by table, for the page's
audience; the two long tables paginated and filtered; bad parameters a 400."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from accounts.models import CompetitorEvent, PeopleChange, Ticket
from csrisk import clock
from insights import services
from tests.conftest import api, login
from tests.factories import AccountFactory
from tests.insights.helpers import NOW, book, days_ago


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def dangers(b: dict) -> None:
    """Blind spots on green Gamma (velocity, competitor, people); actions on Alpha (a
    competitor evaluation) and Beta (its decision maker left)."""
    gamma = b["gamma"]
    for i in range(10):
        Ticket.objects.create(account=gamma, opened_at=days_ago(5 + i))
    CompetitorEvent.objects.create(
        account=gamma, competitor="Rival", activity="mention", occurred_at=days_ago(3)
    )
    PeopleChange.objects.create(
        account=gamma, change="left", roles=["edm"], old_title="CFO", occurred_at=days_ago(8)
    )
    CompetitorEvent.objects.create(
        account=b["alpha"], competitor="Rival", activity="evaluation", occurred_at=days_ago(3)
    )
    PeopleChange.objects.create(
        account=b["beta"], change="left", roles=["edm"], old_title="CEO", occurred_at=days_ago(30)
    )


def money(x: Decimal | None) -> str | None:
    return None if x is None else f"{x:.2f}"


def bucket(b: Any) -> dict:
    return {
        "key": b.key,
        "label": b.label,
        "total": money(b.total),
        "red": money(b.red),
        "yellow": money(b.yellow),
        "at_risk": money(b.at_risk),
        "change_30": money(b.change_30),
        "change_90": money(b.change_90),
        "accounts_at_risk": b.accounts_at_risk,
        "expected_loss": money(b.expected_loss),
    }


def page(org) -> Any:
    response = login(org.vp).get("/summary/")
    assert response.status_code == 200
    return response.context["s"]


def test_it_answers_every_table_of_the_page_with_its_numbers(org):
    dangers(book(org))
    s = page(org)
    body = api(org.vp).get("/api/v1/summary/").json()
    assert body["total"] == bucket(s.total)
    assert body["total"]["red"] == "100000.00" and body["total"]["yellow"] == "50000.00"
    for table in ("by_area", "by_segment", "by_team", "by_quarter"):
        assert body[table] == [bucket(b) for b in getattr(s, table)], table
    by_area = {b["key"]: b for b in body["by_area"]}
    assert by_area["support"]["red"] == "100000.00"
    assert by_area["product"]["yellow"] == "50000.00"
    assert body["trend"] == [
        {"on": p.on.isoformat(), **{k: money(getattr(p, k)) for k in ("red", "yellow", "at_risk")}}
        for p in s.trend
    ]
    assert body["escalations"] == [{**e, "arr": money(e["arr"])} for e in s.escalations]
    assert body["coverage"] == {**s.coverage, "uncovered_arr": money(s.coverage["uncovered_arr"])}
    assert body["risk"]["n_live"] == s.risk.n_live == 3
    assert body["risk"]["n_scored"] == s.risk.n_scored
    assert (body["blind_spots"], body["actions"]) == (len(s.blind_spots), len(s.actions)) == (3, 4)
    assert body["as_of"].startswith("2026-06-15T12:00:00")


def test_it_lists_every_blind_spot_as_the_page_holds_them(org):
    dangers(book(org))
    s = page(org)
    body = api(org.vp).get("/api/v1/summary/blind-spots/").json()
    assert body["count"] == 3
    assert [(r["account_name"], r["signal"], r["sentence"], r["on"]) for r in body["results"]] == [
        (b.account, b.signal, b.sentence, b.on.isoformat()) for b in s.blind_spots
    ]
    velocity = next(r for r in body["results"] if r["signal"] == "velocity")
    assert velocity["arr"] == "30000.00"
    assert velocity["signal_label"] == "Ticket velocity"
    assert (
        velocity["sentence"]
        == "10 non-critical tickets in the last 90 days vs 0 before (+125% against a floor of 8)"
    )


def test_it_pages_and_filters_the_blind_spots(org):
    b = book(org)
    dangers(b)
    client = api(org.ceo)
    first = client.get("/api/v1/summary/blind-spots/?page_size=2").json()
    assert (first["count"], len(first["results"]), first["previous"]) == (3, 2, None)
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None
    only = client.get("/api/v1/summary/blind-spots/?signal=competitor").json()
    assert [r["sentence"] for r in only["results"]] == ["Mention of Rival"]
    none = client.get(f"/api/v1/summary/blind-spots/?account={b['alpha'].pk}").json()
    assert none["count"] == 0  # Alpha is red: no blind spot


def test_it_ranks_the_actions_as_the_page_and_shows_the_cta_one_opened(org):
    b = book(org)
    dangers(b)
    cta = services.summary_action_take(account=b["beta"], signal="edm_left", by=org.vp)
    s = page(org)
    body = api(org.executive).get("/api/v1/summary/actions/").json()
    assert [(r["rank"], r["account_name"], r["signal"]) for r in body["results"]] == [
        (i, a.account, a.signal) for i, a in enumerate(s.actions, start=1)
    ]
    assert [r["priority"] for r in body["results"]] == pytest.approx(
        [a.priority for a in s.actions]
    )
    rows = {(r["account_name"], r["signal"]): r for r in body["results"]}
    alpha, beta = rows[("Alpha", "competitor")], rows[("Beta", "edm_left")]
    assert (alpha["rank"], alpha["cta"], alpha["days_to_renewal"]) == (1, None, 25)
    assert alpha["priority"] == pytest.approx(100_000 * 0.9 / (1 + 25 / 90))
    assert alpha["response"]["escalate_to"] == 2
    assert beta["cta"] == cta.pk
    only = api(org.vp).get(f"/api/v1/summary/actions/?account={b['beta'].pk}").json()
    assert [(r["rank"], r["signal"]) for r in only["results"]] == [(beta["rank"], "edm_left")]


@pytest.mark.parametrize(
    "query",
    [
        "signal=nope",
        "signal=",
        "signal=velocity&signal=people",
        "account=abc",
        "account=0",
        "account=99999999999999999999",
        "page=0",
        "page_size=x",
    ],
)
def test_it_answers_a_bad_parameter_with_a_400_naming_it(org, query):
    book(org)
    for path in ("/api/v1/summary/blind-spots/", "/api/v1/summary/actions/"):
        response = api(org.vp).get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert query.split("=")[0] in response.json(), response.json()


def test_it_answers_a_page_past_the_end_with_a_404(org):
    book(org)
    assert api(org.vp).get("/api/v1/summary/actions/?page=9").status_code == 404


@pytest.mark.parametrize("role", ["csm_a", "lead_a", "support", "integration"])
def test_it_refuses_whom_the_page_refuses(org, role):
    client = api(getattr(org, role), token=True)
    for path in ("summary/", "summary/blind-spots/", "summary/actions/"):
        assert client.get(f"/api/v1/{path}").status_code == 403, path


def test_it_needs_credentials(db):
    assert api().get("/api/v1/summary/").status_code == 401


def test_it_costs_no_more_queries_than_the_page_whatever_the_book(
    org, django_assert_max_num_queries
):
    dangers(book(org))
    vp = login(org.vp)
    vp.get("/summary/")  # warm the session and content types
    with django_assert_max_num_queries(100) as on_page:
        vp.get("/summary/")
    page_queries = len(on_page.captured_queries)
    counts = {}
    for path in ("summary/", "summary/blind-spots/", "summary/actions/"):
        vp.get(f"/api/v1/{path}")
        with django_assert_max_num_queries(page_queries) as captured:
            assert vp.get(f"/api/v1/{path}").status_code == 200
        counts[path] = len(captured.captured_queries)
    for i in range(20):
        account = AccountFactory(owner=org.csm_b, arr=Decimal("10000"))
        CompetitorEvent.objects.create(
            account=account, competitor=f"R{i}", activity="evaluation", occurred_at=days_ago(2)
        )
    for path, n in counts.items():
        with django_assert_max_num_queries(n):
            assert vp.get(f"/api/v1/{path}?page_size=1000").status_code == 200
