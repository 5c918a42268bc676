"""RACI: a flagged CTA in an area goes to the team that owns it — told once, and listed
on their queue page with the cockpit's in-place actions."""

from __future__ import annotations

import datetime as dt

import pytest

from csrisk import clock
from csrisk.models import Notification
from ctas import services
from tests.conftest import login

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def support_cta(account, by, reason="Ticket storm"):
    return services.cta_create(account=account, by=by, reason=reason, area="support")


def test_the_support_team_is_told_once_of_a_flagged_support_cta(
    org, account_a, django_capture_on_commit_callbacks
):
    cta = support_cta(account_a, org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=cta, by=org.csm_a, reason="Backlog keeps growing")
    told = Notification.objects.filter(user=org.support)
    assert told.count() == 1
    assert account_a.name in told.get().title


def test_support_sees_the_flagged_support_ctas_on_its_queue(org, account_a):
    cta = support_cta(account_a, org.csm_a, reason="Ticket storm")
    services.cta_flag(cta=cta, by=org.csm_a, reason="Backlog keeps growing")
    response = login(org.support).get("/cockpit/queue/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Support queue" in html and "Ticket storm" in html


HX = {"HTTP_HX_REQUEST": "true"}


def test_a_habits_flag_tells_no_department(org, account_a, django_capture_on_commit_callbacks):
    cta = services.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=cta, by=org.csm_a, reason="help")
    assert not Notification.objects.filter(user=org.support).exists()
    assert not Notification.objects.filter(user=org.csm_b, kind="escalation_queue").exists()


def test_a_named_owning_team_is_told_instead_of_the_function(
    org, account_a, django_capture_on_commit_callbacks
):
    from scorecards.models import Area
    from tests.factories import TeamFactory, UserFactory

    tier2 = TeamFactory(name="Support Tier 2", function="support")
    engineer = UserFactory(username="tier2", role="support", team=tier2)
    Area.objects.filter(code="support").update(owning_team=tier2)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=support_cta(account_a, org.csm_a), by=org.csm_a, reason="help")
    assert Notification.objects.filter(user=engineer, kind="escalation_queue").count() == 1
    assert not Notification.objects.filter(user=org.support).exists()


def test_the_queue_lists_flagged_first_and_not_other_areas(org, account_a, account_b):
    quiet = support_cta(account_b, org.csm_b, reason="Quiet tickets")
    loud = support_cta(account_a, org.csm_a, reason="Ticket storm")
    services.cta_flag(cta=loud, by=org.csm_a, reason="Backlog")
    services.cta_create(account=account_a, by=org.csm_a, reason="Usage review", area="habits")
    html = login(org.support).get("/cockpit/queue/").content.decode()
    assert html.index("Ticket storm") < html.index("Quiet tickets")
    assert "Usage review" not in html
    assert "<strong>1</strong> flagged" in html and "<strong>2</strong> open" in html
    assert 'href="/cockpit/queue/"' in html and "Support queue" in html  # in the menu
    del quiet


def test_support_works_its_ctas_in_place_but_not_other_areas(org, account_a):
    cta = support_cta(account_a, org.csm_a)
    services.cta_flag(cta=cta, by=org.csm_a, reason="Backlog")
    client = login(org.support)
    response = client.post(f"/cockpit/ctas/{cta.pk}/unflag/", **HX)
    assert response.status_code == 200 and f'id="cta-{cta.pk}"' in response.content.decode()
    cta.refresh_from_db()
    assert not cta.flagged
    habits = services.cta_create(account=account_a, by=org.csm_a, reason="Usage", area="habits")
    assert client.post(f"/cockpit/ctas/{habits.pk}/unflag/", **HX).status_code == 403


def test_the_queue_answers_htmx_with_the_list(org, account_a):
    support_cta(account_a, org.csm_a, reason="Ticket storm")
    response = login(org.support).get(
        "/cockpit/queue/", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cockpit-list"
    )
    assert response.status_code == 200
    assert b"<html" not in response.content and b"Ticket storm" in response.content
    assert "HX-Request" in response["Vary"]


def test_the_queue_needs_a_login_and_a_department(client, org):
    assert client.get("/cockpit/queue/").status_code == 302
    assert login(org.csm_a).get("/cockpit/queue/").status_code == 404  # CS: no area queue
    assert login(org.executive).get("/cockpit/queue/").status_code == 404


def test_the_queue_is_get_only(org):
    assert login(org.support).post("/cockpit/queue/").status_code == 405


def test_the_queue_takes_the_same_queries_for_more_rows(
    org, account_a, django_assert_max_num_queries
):
    services.cta_flag(cta=support_cta(account_a, org.csm_a), by=org.csm_a, reason="x")
    client = login(org.support)
    client.get("/cockpit/queue/")
    with django_assert_max_num_queries(30) as few:
        client.get("/cockpit/queue/")
    from tests.factories import AccountFactory

    for i in range(6):
        other = AccountFactory(owner=org.csm_b if i % 2 else org.csm_a)
        cta = support_cta(other, other.owner, reason=f"Storm {i}")
        if i % 3 == 0:
            services.cta_flag(cta=cta, by=other.owner, reason="help")
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/cockpit/queue/").content.decode()
    assert "Storm 5" in html


def test_a_department_person_without_an_area_gets_an_empty_queue_not_a_404(org):
    from tests.factories import UserFactory

    loner = UserFactory(username="loner", role="support")  # no team yet
    response = login(loner).get("/cockpit/queue/")
    assert response.status_code == 200
    assert "owns no risk area yet" in response.content.decode()
