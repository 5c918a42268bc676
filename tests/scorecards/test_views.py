"""Scorecard pages: the account panel, overrides, the 1:1 review, the leadership review."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Ticket
from csrisk import clock
from scorecards import services
from scorecards.models import AreaScore, Override, ScorecardSettings
from tests.conftest import login
from tests.factories import AccountFactory, ContactFactory

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def make_red(account) -> None:
    for i in range(30):
        Ticket.objects.create(account=account, opened_at=NOW - dt.timedelta(days=3 + i))


@pytest.fixture
def scored(org, account_a, account_b):
    for account in (account_a, account_b):
        ContactFactory(account=account, roles=["edm"])
    make_red(account_b)
    services.recompute([account_a.pk, account_b.pk])
    return account_a, account_b


def test_the_account_page_shows_colours_reasons_trend_and_timeline(org, scored):
    _, red = scored
    html = login(org.csm_a).get(f"/accounts/{red.pk}/").content.decode()
    assert 'id="scorecard-panel"' in html
    assert "Support is red: 30 non-critical tickets" in html
    assert "support.noncritical_velocity" in html
    assert "yellow ≥ 0.5, red ≥ 1" in html
    assert "Colours over the last 90 days" in html
    assert html.count('class="timeline-row"') == 9  # overall + eight areas
    assert "Override a colour" not in html  # csm_a does not own account_b


def test_the_owner_sets_an_override_in_place(org, scored):
    green, _ = scored
    response = login(org.csm_a).post(
        f"/scorecards/accounts/{green.pk}/override/",
        {
            "area": "habits",
            "color": "red",
            "reason": "Champion told us they are leaving",
            "expires_at": "2026-11-20",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Set to red by csm_a until 2026-11-20 23:59" in response.content
    assert AreaScore.objects.get(account=green, area="habits").color == "red"


def test_an_override_without_reason_is_a_400_with_the_reason(org, scored):
    green, _ = scored
    response = login(org.csm_a).post(
        f"/scorecards/accounts/{green.pk}/override/",
        {"area": "habits", "color": "red", "reason": " ", "expires_at": "2026-11-20"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert b"This field is required" in response.content or b"Say why" in response.content
    assert not Override.objects.exists()


@pytest.mark.parametrize("who", ["csm_b", "lead_b", "support", "executive"])
def test_others_cannot_override(org, scored, who):
    green, _ = scored
    response = login(getattr(org, who)).post(
        f"/scorecards/accounts/{green.pk}/override/",
        {"area": "habits", "color": "red", "reason": "x", "expires_at": "2026-11-20"},
    )
    assert response.status_code == 403


def test_clearing_works_without_javascript(org, scored):
    green, _ = scored
    override = services.override_set(
        account=green,
        area="habits",
        color="red",
        reason="x",
        by=org.lead_a,
        expires_at=NOW + dt.timedelta(days=2),
    )
    response = login(org.lead_a).post(f"/scorecards/overrides/{override.pk}/clear/")
    assert response.status_code == 302
    assert AreaScore.objects.get(account=green, area="habits").color == "green"
    assert login(org.lead_a).get(f"/scorecards/overrides/{override.pk}/clear/").status_code == 405


def test_the_review_shows_every_account_of_the_csm_greens_included(org, scored):
    AccountFactory(owner=org.csm_a, name="Quiet Green Co")
    services.recompute()
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}").content.decode()
    assert "Alpha Inc" in html and "Quiet Green Co" in html
    assert "Beta LLC" not in html  # csm_b's book


def test_the_review_starts_from_the_leads_team_and_refuses_other_teams(org, scored):
    client = login(org.lead_a)
    assert client.get("/scorecards/").status_code == 200
    assert client.get(f"/scorecards/?csm={org.csm_b.pk}").status_code == 404


def test_a_vp_may_review_any_team(org, scored):
    html = login(org.vp).get(f"/scorecards/?team={org.team_b.pk}&csm={org.csm_b.pk}")
    assert b"Beta LLC" in html.content


@pytest.mark.parametrize(("who", "status"), [("support", 403), ("executive", 403), ("csm_a", 200)])
def test_the_review_is_for_leads_vp_ceo_and_a_csms_own_book(org, scored, who, status):
    assert login(getattr(org, who)).get("/scorecards/").status_code == status


def test_the_review_filters_sorts_and_answers_htmx(org, scored):
    AccountFactory(owner=org.csm_b, name="Zeta Red", arr=Decimal("900000"))
    make_red(org.csm_b.owned_accounts.get(name="Zeta Red"))
    services.recompute()
    client = login(org.vp)
    html = client.get(
        f"/scorecards/?csm={org.csm_b.pk}&color=red&sort=arr",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="review-table",
    ).content.decode()
    assert "<html" not in html
    assert html.index("Zeta Red") < html.index("Beta LLC")


def test_a_chip_opens_the_reasons(org, scored):
    _, red = scored
    html = login(org.lead_a).get(f"/scorecards/accounts/{red.pk}/reasons/support/").content
    assert b"30 non-critical tickets in the last 90 days" in html
    # the reasons link to the tickets they cite
    assert f'href="/accounts/{red.pk}/facts/ticket/'.encode() in html
    assert login(org.lead_a).get(f"/scorecards/accounts/{red.pk}/reasons/vibes/").status_code == 404


@pytest.mark.parametrize("n", [3, 40])
def test_the_review_runs_a_constant_number_of_queries(org, n, django_assert_max_num_queries):
    for i in range(n):
        account = AccountFactory(owner=org.csm_a, name=f"Acct {i}")
        if i % 3 == 0:
            make_red(account)
    services.recompute()
    client = login(org.lead_a)
    client.get(f"/scorecards/?csm={org.csm_a.pk}")  # a first pick is kept in the session, once
    # + the escalation panel: the CSM's flagged CTAs, their open escalations
    with django_assert_max_num_queries(13):
        assert client.get(f"/scorecards/?csm={org.csm_a.pk}").status_code == 200


def test_the_leadership_review_lists_red_accounts_above_the_threshold(org, scored):
    small = AccountFactory(owner=org.csm_b, name="Small Red", arr=Decimal("1000"))
    big = AccountFactory(owner=org.csm_b, name="Big Red", arr=Decimal("2000000"))
    for account in (small, big):
        make_red(account)
    services.recompute()
    settings = ScorecardSettings.get()
    settings.leadership_arr_threshold = Decimal("40000")
    settings.save()
    html = login(org.vp).get("/scorecards/leadership/").content.decode()
    assert "Small Red" not in html
    assert html.index("Big Red") < html.index("Beta LLC")
    assert "Alpha Inc" not in html  # green


@pytest.mark.parametrize("n", [2, 30])
def test_the_leadership_review_runs_a_constant_number_of_queries(
    org, n, django_assert_max_num_queries
):
    for i in range(n):
        make_red(AccountFactory(owner=org.csm_a, name=f"Red {i}", arr=Decimal("500000")))
    services.recompute()
    client = login(org.ceo)
    with django_assert_max_num_queries(5):
        assert client.get("/scorecards/leadership/").status_code == 200


@pytest.mark.parametrize(
    ("who", "status"),
    [("csm_a", 403), ("support", 403), ("lead_a", 200), ("executive", 200), ("ceo", 200)],
)
def test_the_leadership_review_is_for_leadership(org, who, status):
    assert login(getattr(org, who)).get("/scorecards/leadership/").status_code == status


def test_the_account_list_shows_colours_with_trend_and_sorts_by_health(org, scored):
    del scored  # Alpha Inc green, Beta LLC red
    client = login(org.csm_a)
    html = client.get("/accounts/?sort=risk").content.decode()
    assert html.index("Beta LLC") < html.index("Alpha Inc")  # red first
    assert "chip-red" in html and "chip-green" in html
    assert "Support is red" in html
    html = client.get("/accounts/?sort=-risk").content.decode()
    assert html.index("Alpha Inc") < html.index("Beta LLC")


@pytest.mark.parametrize("n", [3, 40])
def test_the_account_list_with_colours_keeps_a_constant_query_count(
    org, n, django_assert_max_num_queries
):
    for _ in range(n):
        make_red(AccountFactory(owner=org.csm_a))
    services.recompute()
    client = login(org.csm_a)
    with django_assert_max_num_queries(8):
        assert client.get("/accounts/?per_page=100&sort=risk").status_code == 200


def test_the_review_remembers_the_csm_picked_last(org, scored):
    client = login(org.vp)
    client.get(f"/scorecards/?csm={org.csm_b.pk}")
    html = client.get("/scorecards/").content.decode()
    assert "Beta LLC" in html and "Alpha Inc" not in html


def test_the_review_opens_the_reasons_under_the_row_clicked(org, scored):
    _, red = scored
    html = login(org.vp).get(f"/scorecards/?csm={org.csm_b.pk}").content.decode()
    assert f'hx-target="#why-{red.pk}"' in html
    assert f'id="why-{red.pk}"' in html
    assert 'hx-target="#reasons"' not in html


def test_the_review_reads_its_headings_and_scores_in_the_colours_band(org, scored):
    from scorecards.models import Scorecard

    _, red = scored
    html = login(org.vp).get(f"/scorecards/?csm={org.csm_b.pk}").content.decode()
    assert ">Habi<" not in html and "Habits</th>" in html
    assert '<abbr title="Implementation">Implem.</abbr>' in html
    card = Scorecard.objects.get(account=red)
    assert card.color == "red" and card.score < 40
    assert f"Red · {card.score}</span>" in html  # the overall chip shows its band's score


def test_a_gap_in_the_data_shows_grey_no_data_with_what_is_missing(org, scored):
    green, _ = scored
    html = login(org.csm_a).get(f"/accounts/{green.pk}/").content.decode()
    row = html.split('id="area-sentiment"')[1].split("</tr>")[0]
    assert 'class="chip chip-nodata"' in row and "No data" in row  # a word, not colour alone
    assert "chip-green" not in row.split("<details>")[0]
    assert "No data:</strong> Not enough CSAT" in row  # what is missing
    company = html.split('id="area-company"')[1].split("</tr>")[0]
    assert "chip-nodata" not in company.split("<details>")[0]  # the EDM is on record


def test_the_review_shows_no_data_cells_as_no_data(org, scored):
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}").content.decode()
    assert 'aria-label="Sentiment: no data — show why"' in html
    assert "chip-nodata" in html


def test_a_no_data_area_says_what_is_missing_in_one_plain_sentence():
    from scorecards.templatetags.scorecards_tags import missing

    reasons = [
        {"sentence": "1 NPS answer in the last 180 days: too few to judge.", "no_data": True},
        {"sentence": "A reading, not a gap.", "no_data": False},
        {"sentence": "No CSAT answers in the last 90 days.", "no_data": True},
    ]
    assert missing(reasons) == (
        "1 NPS answer in the last 180 days: too few to judge; no CSAT answers in the last 90 days."
    )
    assert missing([]) == ""
