"""The cockpit and a CTA's page: order, filters, in-place actions, permissions, chatter."""

from __future__ import annotations

import datetime as dt

import pytest

from csrisk import clock
from ctas import services
from ctas.models import Cta
from scorecards.models import AreaScore
from tests.conftest import login
from tests.factories import AccountFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


def make(account, by, reason, **kw) -> Cta:
    kw.setdefault("area", "habits")
    return services.cta_create(account=account, by=by, reason=reason, **kw)


def test_the_cockpit_lists_my_live_ctas_flagged_then_overdue_first(org, account_a):
    later = make(account_a, org.csm_a, "Later", due_date=dt.date(2026, 11, 20))
    with clock.frozen(NOW - dt.timedelta(days=30)):  # due dates are never set in the past
        late = make(account_a, org.csm_a, "Overdue one", due_date=dt.date(2026, 10, 20))
    flagged = make(account_a, org.csm_a, "Flagged one", due_date=dt.date(2026, 12, 1))
    services.cta_flag(cta=flagged, by=org.csm_a, reason="help")
    closed = make(account_a, org.csm_a, "Closed one")
    services.cta_close(cta=closed, by=org.csm_a, outcome="resolved")
    html = login(org.csm_a).get("/cockpit/").content.decode()
    assert html.index("Flagged one") < html.index("Overdue one") < html.index("Later")
    assert "Closed one" not in html
    assert "<strong>1</strong> flagged" in html and "<strong>1</strong> overdue" in html
    del later, late


def test_filters_and_search(org, account_a, account_b):
    make(account_a, org.csm_a, "Usage review")
    make(account_a, org.csm_a, "Ticket storm", area="support", priority="urgent")
    client = login(org.csm_a)
    html = client.get("/cockpit/?area=support").content.decode()
    assert "Ticket storm" in html and "Usage review" not in html
    html = client.get("/cockpit/?q=usage").content.decode()
    assert "Usage review" in html and "Ticket storm" not in html
    html = client.get(
        "/cockpit/?priority=urgent", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cockpit-list"
    ).content.decode()
    assert "<html" not in html and "Ticket storm" in html


def test_flag_in_place_returns_the_row_and_the_counters(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    response = login(org.csm_a).post(
        f"/cockpit/ctas/{cta.pk}/flag/", {"reason": "Need VP"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="cta-{cta.pk}"' in html and "⚑ Flagged" in html
    assert 'id="cockpit-counters"' in html and 'hx-swap-oob="true"' in html
    assert AreaScore.objects.get(account=account_a, area="habits").color == "red"


def test_an_action_error_is_shown_in_the_row_as_400(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    response = login(org.csm_a).post(
        f"/cockpit/ctas/{cta.pk}/flag/", {"reason": " "}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert b"Say what help you need." in response.content


def test_actions_work_without_javascript(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    client = login(org.csm_a)
    assert (
        client.post(f"/cockpit/ctas/{cta.pk}/snooze/", {"until": "2026-11-09"}).status_code == 302
    )
    assert client.post(f"/cockpit/ctas/{cta.pk}/close/", {"outcome": "resolved"}).status_code == 302
    cta.refresh_from_db()
    assert (cta.status, cta.outcome) == ("closed", "resolved")


@pytest.mark.parametrize("path", ["flag", "unflag", "close", "snooze", "reassign", "comment"])
def test_a_csm_of_another_team_gets_403(org, account_a, path):
    cta = make(account_a, org.csm_a, "Usage review")
    response = login(org.csm_b).post(
        f"/cockpit/ctas/{cta.pk}/{path}/", {"reason": "x", "body": "x", "outcome": "resolved"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("path", ["flag", "close", "comment"])
def test_get_on_an_action_is_405(org, account_a, path):
    cta = make(account_a, org.csm_a, "Usage review")
    assert login(org.csm_a).get(f"/cockpit/ctas/{cta.pk}/{path}/").status_code == 405


@pytest.mark.parametrize(
    ("who", "status"),
    [("lead_a", 200), ("vp", 200), ("csm_a2", 403), ("lead_b", 403), ("support", 403)],
)
def test_whose_cockpit_one_may_open(org, who, status):
    response = login(getattr(org, who)).get(f"/cockpit/?user={org.csm_a.pk}")
    assert response.status_code == status


def test_reassign_in_place(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    response = login(org.lead_a).post(
        f"/cockpit/ctas/{cta.pk}/reassign/", {"owner": org.csm_a2.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    cta.refresh_from_db()
    assert cta.owner == org.csm_a2


def test_chatter_escapes_html_and_mentions_notify(
    org, account_a, django_capture_on_commit_callbacks
):
    cta = make(account_a, org.csm_a, "Usage review")
    client = login(org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/cockpit/ctas/{cta.pk}/comment/",
            {"body": "<script>alert(1)</script> @lead_a please look"},
        )
    html = client.get(f"/cockpit/ctas/{cta.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; @lead_a please look" in html
    assert org.lead_a.notifications.filter(kind="mention").count() == 1


def test_mention_autocomplete(org):
    body = login(org.csm_a).get("/cockpit/people/?q=lead").json()
    assert [p["username"] for p in body["results"]] == ["lead_a", "lead_b"]
    body = login(org.csm_a).get("/cockpit/people/?q=integ").json()
    assert body["results"] == []


def test_a_task_is_completed_in_place(org, account_a):
    from ctas.models import Playbook

    cta = services.cta_create(
        account=account_a,
        by=org.csm_a,
        reason="Usage",
        area="habits",
        playbook=Playbook.objects.get(name="Low adoption"),
    )
    task = cta.tasks.first()
    response = login(org.csm_a).post(f"/cockpit/tasks/{task.pk}/done/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"<s>" in response.content
    task.refresh_from_db()
    assert task.done_by == org.csm_a


@pytest.mark.parametrize("n", [3, 80])
def test_the_cockpit_runs_a_constant_number_of_queries(org, n, django_assert_max_num_queries):
    account = AccountFactory(owner=org.csm_a)
    Cta.objects.bulk_create(
        [
            Cta(
                account=account,
                reason=f"R{i}",
                area="habits",
                owner=org.csm_a,
                due_date=dt.date(2026, 11, 1 + i % 28),
                created_at=NOW,
                updated_at=NOW,
                flagged=i % 7 == 0,
            )
            for i in range(n)
        ]
    )
    client = login(org.csm_a)
    with django_assert_max_num_queries(9):
        assert client.get("/cockpit/").status_code == 200


def test_a_csm_opens_a_cta_from_the_account_page(org, account_a):
    client = login(org.csm_a)
    html = client.get(f"/accounts/{account_a.pk}/").content.decode()
    assert "Open a CTA" in html and "Low or falling adoption" in html
    response = client.post(
        f"/cockpit/accounts/{account_a.pk}/open/",
        {
            "type": "risk",
            "area": "support",
            "reason": "Support escalation",
            "priority": "high",
            "due_date": "",
            "playbook": "",
            "description": "",
        },
    )
    assert response.status_code == 302
    cta = Cta.objects.get()
    assert (cta.owner, cta.area, cta.due_date) == (org.csm_a, "support", dt.date(2026, 11, 5))
    assert "Support escalation" in client.get(f"/accounts/{account_a.pk}/").content.decode()


def test_another_team_cannot_open_a_cta_and_a_bad_form_says_why(org, account_a):
    data = {"type": "risk", "area": "", "reason": "x", "priority": "high"}
    assert login(org.csm_b).post(f"/cockpit/accounts/{account_a.pk}/open/", data).status_code == 403
    client = login(org.csm_a)
    response = client.post(f"/cockpit/accounts/{account_a.pk}/open/", data, follow=True)
    assert "A risk CTA belongs to one of the eight areas." in response.content.decode()
    assert not Cta.objects.exists()


def test_the_review_shows_open_and_flagged_cta_counts(org, account_a):
    from scorecards import services as scorecards

    scorecards.recompute([account_a.pk])
    flagged = make(account_a, org.csm_a, "One")
    make(account_a, org.csm_a, "Two")
    services.cta_flag(cta=flagged, by=org.csm_a, reason="help")
    html = login(org.lead_a).get(f"/scorecards/?csm={org.csm_a.pk}").content.decode()
    assert 'title="1 flagged"' in html
    assert f'href="/accounts/{account_a.pk}/#cta-panel">2' in html


def test_the_cockpits_own_links_lead_to_the_cockpit_not_the_api(org, account_a):
    import re

    cta = make(account_a, org.csm_a, "Usage review")
    client = login(org.csm_a)
    html = client.get("/cockpit/").content.decode()
    targets = set(re.findall(r'(?:hx-post|action|href)="(/[^"]*ctas/[^"]*)"', html))
    assert targets, "the cockpit renders links to its CTAs"
    assert not [t for t in targets if t.startswith("/api/")]
    flag_url = next(t for t in targets if t.endswith("/flag/"))
    response = client.post(flag_url, {"reason": "help"}, HTTP_HX_REQUEST="true")
    assert response["Content-Type"].startswith("text/html")
    assert f'id="cta-{cta.pk}"' in response.content.decode()
    detail = next(t for t in targets if t.endswith(f"/ctas/{cta.pk}/"))
    assert "Chatter" in client.get(detail).content.decode()


def test_tasks_and_chatter_open_inside_the_cockpit_row(org, account_a):
    from ctas.models import Playbook

    cta = services.cta_create(
        account=account_a,
        by=org.csm_a,
        reason="Usage",
        area="habits",
        playbook=Playbook.objects.get(name="Low adoption"),
    )
    client = login(org.csm_a)
    assert f'hx-get="/cockpit/ctas/{cta.pk}/work/"' in client.get("/cockpit/").content.decode()
    html = client.get(f"/cockpit/ctas/{cta.pk}/work/", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html
    assert "Review the usage trend" in html and "Chatter" in html
    response = client.post(
        f"/cockpit/ctas/{cta.pk}/tasks/", {"title": "Call the CFO"}, HTTP_HX_REQUEST="true"
    )
    assert "Call the CFO" in response.content.decode()
    response = client.post(
        f"/cockpit/ctas/{cta.pk}/comment/", {"body": "Called, no answer"}, HTTP_HX_REQUEST="true"
    )
    assert "Called, no answer" in response.content.decode()


def test_a_task_is_reassigned_within_the_team_only(org, account_a):
    cta = make(account_a, org.csm_a, "Usage")
    task = services.task_add(cta=cta, by=org.csm_a, title="Workshop")
    client = login(org.lead_a)
    response = client.post(
        f"/cockpit/tasks/{task.pk}/reassign/", {"owner": org.csm_a2.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.owner == org.csm_a2
    assert (
        client.post(f"/cockpit/tasks/{task.pk}/reassign/", {"owner": org.csm_b.pk}).status_code
        == 403
    )
    assert (
        login(org.csm_b).post(f"/cockpit/ctas/{cta.pk}/tasks/", {"title": "x"}).status_code == 403
    )


def test_it_loads_the_close_snooze_and_reassign_forms_into_the_row(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    client = login(org.lead_a)
    html = client.get(f"/cockpit/?user={org.csm_a.pk}").content.decode()
    assert f'hx-get="/cockpit/ctas/{cta.pk}/form/?action=close"' in html
    for action, field in [("close", 'name="outcome"'), ("snooze", 'name="until"')]:
        response = client.get(
            f"/cockpit/ctas/{cta.pk}/form/?action={action}", HTTP_HX_REQUEST="true"
        )
        html = response.content.decode()
        assert response.status_code == 200 and "<html" not in html and field in html
        assert f'hx-post="/cockpit/ctas/{cta.pk}/{action}/"' in html
    html = client.get(f"/cockpit/ctas/{cta.pk}/form/?action=reassign").content.decode()
    assert f'<option value="{org.csm_a2.pk}">' in html
    html = client.get(f"/cockpit/ctas/{cta.pk}/form/").content.decode()
    assert 'name="outcome"' in html and 'name="until"' in html and 'name="owner"' in html
    assert client.get(f"/cockpit/ctas/{cta.pk}/form/?action=delete").status_code == 404
    assert client.post(f"/cockpit/ctas/{cta.pk}/form/?action=close").status_code == 405
    assert login(org.csm_b).get(f"/cockpit/ctas/{cta.pk}/form/?action=close").status_code == 403


def test_the_cta_page_offers_every_action_without_javascript(org, account_a):
    cta = make(account_a, org.csm_a, "Usage review")
    client = login(org.csm_a)
    html = client.get(f"/cockpit/ctas/{cta.pk}/").content.decode()
    for action in ("flag", "close", "snooze", "reassign"):
        assert f'action="/cockpit/ctas/{cta.pk}/{action}/"' in html
    assert "hx-post" not in html.split('id="actions"')[1].split("</section>")[0]
    response = client.post(
        f"/cockpit/ctas/{cta.pk}/close/",
        {"outcome": "resolved", "next": f"/cockpit/ctas/{cta.pk}/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/cockpit/ctas/{cta.pk}/"
    assert 'id="actions"' not in client.get(f"/cockpit/ctas/{cta.pk}/").content.decode()
