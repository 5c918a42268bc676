"""Renewal risk on other apps' pages: the 1:1 review, the cockpit and the account list show
each account's churn probability and expected ARR loss, sort by expected loss, and say
when a figure comes from the prior. The columns arrive through ``csrisk.panels``."""

from __future__ import annotations

import ast
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest

from csrisk import clock
from ctas import services
from insights.models import RiskModelKind
from insights.predictions import PRIOR_NOTE
from tests.conftest import login
from tests.factories import AccountFactory
from tests.insights.risk_factories import RiskModelFactory, RiskPredictionFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def book(org) -> dict:
    """csm_a's three accounts: Big (1M ARR, 5% → 50k), Mid (200k, 40% → 80k) and Unscored
    (500k, no prediction yet); csm_b's Other (300k, 90%)."""
    RiskModelFactory()
    accounts = {
        "big": AccountFactory(owner=org.csm_a, name="Big Co", arr=Decimal("1000000")),
        "mid": AccountFactory(owner=org.csm_a, name="Mid Co", arr=Decimal("200000")),
        "unscored": AccountFactory(owner=org.csm_a, name="Unscored Co", arr=Decimal("500000")),
        "other": AccountFactory(owner=org.csm_b, name="Other Co", arr=Decimal("300000")),
    }
    RiskPredictionFactory(account=accounts["big"], probability=0.05)
    RiskPredictionFactory(account=accounts["mid"], probability=0.4)
    RiskPredictionFactory(account=accounts["other"], probability=0.9)
    return accounts


def order(html: str, *names: str) -> list[str]:
    return sorted(names, key=html.index)


def text(html: str) -> str:
    """The page's words, tags stripped."""
    return re.sub(r"<[^>]+>", "", html)


# --- the 1:1 review ---------------------------------------------------------------------------


def test_it_sorts_the_review_by_expected_loss(org, book):
    client = login(org.lead_a)
    html = client.get(f"/scorecards/?csm={org.csm_a.pk}&sort=expected_loss").content.decode()
    assert order(html, "Big Co", "Mid Co", "Unscored Co") == ["Mid Co", "Big Co", "Unscored Co"]
    assert '<option value="expected_loss" selected>Expected ARR loss</option>' in html
    assert "40% · 80,000" in text(html) and "not scored" in html
    by_arr = client.get(f"/scorecards/?csm={org.csm_a.pk}&sort=arr").content.decode()
    assert order(by_arr, "Big Co", "Mid Co") == ["Big Co", "Mid Co"]


def test_it_answers_the_reviews_htmx_request_with_the_sorted_table(org, book):
    html = (
        login(org.lead_a)
        .get(
            f"/scorecards/?csm={org.csm_a.pk}&sort=expected_loss",
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="review-table",
        )
        .content.decode()
    )
    assert "<html" not in html
    assert order(html, "Big Co", "Mid Co") == ["Mid Co", "Big Co"]


def test_it_ignores_an_unknown_review_sort(org, book):
    response = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}&sort=nonsense")
    assert response.status_code == 200
    assert response.context["sort"] == "risk"


def test_it_keeps_other_teams_out_of_the_review(org, book, client):
    assert login(org.lead_a).get(f"/scorecards/?csm={org.csm_b.pk}").status_code == 404
    assert login(org.support).get("/scorecards/?sort=expected_loss").status_code == 403
    assert client.get("/scorecards/?sort=expected_loss").status_code == 302


def test_it_marks_a_probability_from_the_prior(org):
    RiskModelFactory(kind=RiskModelKind.PRIOR)
    RiskPredictionFactory(account=AccountFactory(owner=org.csm_a), probability=0.3)
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}").content.decode()
    assert f'title="{PRIOR_NOTE}">prior</abbr>' in html


@pytest.mark.parametrize("n", [3, 30])
def test_the_review_with_risk_runs_a_constant_number_of_queries(
    org, n, django_assert_max_num_queries
):
    RiskModelFactory()
    for i in range(n):
        RiskPredictionFactory(account=AccountFactory(owner=org.csm_a), probability=i / 100)
    client = login(org.lead_a)
    client.get(f"/scorecards/?csm={org.csm_a.pk}")  # a first pick is kept in the session, once
    with django_assert_max_num_queries(13):  # as without risk (test_views): subqueries only
        assert client.get(f"/scorecards/?csm={org.csm_a.pk}&sort=expected_loss").status_code == 200


# --- the cockpit ------------------------------------------------------------------------------


def cta(account, by, reason: str, due: dt.date):
    return services.cta_create(account=account, by=by, reason=reason, area="habits", due_date=due)


def test_it_sorts_the_cockpit_by_expected_loss(org, book):
    cta(book["big"], org.csm_a, "Big first due", dt.date(2026, 11, 5))
    cta(book["unscored"], org.csm_a, "Unscored", dt.date(2026, 11, 4))
    cta(book["mid"], org.csm_a, "Mid later due", dt.date(2026, 11, 20))
    client = login(org.csm_a)
    default = client.get("/cockpit/").content.decode()
    assert order(default, "Unscored", "Big first due", "Mid later due") == [
        "Unscored",
        "Big first due",
        "Mid later due",
    ]
    html = client.get("/cockpit/?sort=expected_loss").content.decode()
    assert order(html, "Unscored", "Big first due", "Mid later due") == [
        "Mid later due",
        "Big first due",
        "Unscored",
    ]
    assert "renewal risk 40% · 80,000" in text(html)
    assert '<option value="expected_loss" selected>' in html
    assert "3 CTAs" in html  # the count does not lose the sort


def test_it_answers_the_cockpits_htmx_request_sorted(org, book):
    cta(book["big"], org.csm_a, "Big first due", dt.date(2026, 11, 5))
    cta(book["mid"], org.csm_a, "Mid later due", dt.date(2026, 11, 20))
    html = (
        login(org.csm_a)
        .get("/cockpit/?sort=expected_loss", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cockpit-list")
        .content.decode()
    )
    assert "<html" not in html
    assert order(html, "Big first due", "Mid later due") == ["Mid later due", "Big first due"]


def test_a_row_worked_in_place_keeps_its_risk(org, book):
    item = cta(book["mid"], org.csm_a, "Mid", dt.date(2026, 11, 20))
    response = login(org.csm_a).post(
        f"/cockpit/ctas/{item.pk}/flag/", {"reason": "Need VP"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "40% · 80,000" in text(response.content.decode())


def test_it_keeps_other_people_out_of_the_sorted_cockpit(org, book, client):
    assert (
        login(org.csm_b).get(f"/cockpit/?user={org.csm_a.pk}&sort=expected_loss").status_code == 403
    )
    assert client.get("/cockpit/?sort=expected_loss").status_code == 302


def test_it_ignores_an_unknown_cockpit_sort(org, book):
    cta(book["mid"], org.csm_a, "Mid", dt.date(2026, 11, 20))
    response = login(org.csm_a).get("/cockpit/?sort=arr;drop")
    assert response.status_code == 200 and "Mid" in response.content.decode()


@pytest.mark.parametrize("n", [3, 60])
def test_the_sorted_cockpit_runs_a_constant_number_of_queries(
    org, n, django_assert_max_num_queries
):
    RiskModelFactory()
    for i in range(n):
        account = AccountFactory(owner=org.csm_a)
        RiskPredictionFactory(account=account, probability=(i % 90) / 100)
        cta(account, org.csm_a, f"R{i}", dt.date(2026, 11, 3 + i % 25))
    client = login(org.csm_a)
    with django_assert_max_num_queries(9):  # as without risk (ctas/test_views)
        assert client.get("/cockpit/?sort=expected_loss").status_code == 200


# --- the account list -------------------------------------------------------------------------


def test_it_lists_accounts_by_expected_loss(org, book):
    html = login(org.vp).get("/accounts/?sort=-expected_loss").content.decode()
    assert order(html, "Other Co", "Mid Co", "Big Co", "Unscored Co") == [
        "Other Co",
        "Mid Co",
        "Big Co",
        "Unscored Co",
    ]
    assert "90% · 270,000" in text(html) and 'aria-sort="descending">Renewal risk' in html


@pytest.mark.parametrize("n", [3, 40])
def test_the_account_list_with_risk_runs_a_constant_number_of_queries(
    org, n, django_assert_max_num_queries
):
    RiskModelFactory()
    for i in range(n):
        RiskPredictionFactory(account=AccountFactory(owner=org.csm_a), probability=i / 100)
    client = login(org.vp)
    client.get("/accounts/")
    with django_assert_max_num_queries(7):  # as without risk (accounts/test_account_list)
        assert client.get("/accounts/?sort=-expected_loss").status_code == 200


# --- the import arrows ------------------------------------------------------------------------


@pytest.mark.parametrize("app", ["accounts", "scorecards", "ctas", "escalation", "sponsors"])
def test_it_finds_no_app_importing_insights(app):
    offences = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            offences += [
                f"{path.relative_to(ROOT)}:{node.lineno}"
                for name in names
                if name.split(".")[0] == "insights"
            ]
    assert not offences, "nothing imports insights (use csrisk.panels):\n" + "\n".join(offences)
