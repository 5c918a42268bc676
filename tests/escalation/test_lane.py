"""The VP's "suggested for level 2" lane: every live account, flagged or not, with a
renewal at risk, a red habits scorecard or its decision maker gone; accepted (level 2, the
CTA opened if needed, the lead told) or dismissed (until the reason changes)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Account
from csrisk import events
from csrisk.models import AuditEntry, Notification
from ctas.models import Cta
from escalation import selectors, services, tasks
from escalation.models import AccountSuggestion, Escalation
from escalation.services import lane
from escalation.services import suggestions as suggestion_services
from tests.conftest import login
from tests.escalation.conftest import NOW, flag, open_cta, set_color, set_overall
from tests.factories import AccountFactory, ContactFactory

HX = {"HTTP_HX_REQUEST": "true"}


def renewing_red(org, days: int = 5, **kw) -> Account:
    account = AccountFactory(
        owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=days), **kw
    )
    set_overall(account, "red")
    return account


def edm_left(org, **kw) -> Account:
    account = AccountFactory(owner=org.csm_a, **kw)
    ContactFactory(
        account=account,
        name="Dana Boss",
        roles=["edm"],
        at_company=False,
        left_on=NOW.date() - dt.timedelta(days=29),
    )
    return account


def lane_of(account: Account) -> dict[str, str]:
    return dict(AccountSuggestion.objects.filter(account=account).values_list("rule", "status"))


def test_it_shows_an_unflagged_red_account_renewing_soon_in_the_vp_lane(org):
    renewing_red(org, name="Wayne Capital")
    tasks.level_two_lane_task()  # the beat
    html = login(org.vp).get("/escalations/").content.decode()
    assert "Suggested for level 2" in html
    assert "Wayne Capital" in html and "Renewal in 5 days" in html


def test_it_shows_an_account_whose_decision_maker_left_in_the_vp_lane(org):
    edm_left(org, name="Redwood Partners")
    tasks.level_two_lane_task()
    html = login(org.vp).get("/escalations/").content.decode()
    assert "Redwood Partners" in html and "Dana Boss" in html


def test_it_covers_every_live_account_and_only_those_with_a_reason(org):
    red = renewing_red(org)
    yellow = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=5))
    set_overall(yellow, "yellow")  # yellow and nobody asked for help: not the VP's yet
    far = renewing_red(org, days=200)
    churned = renewing_red(org, lifecycle_stage="churned")
    habits = AccountFactory(owner=org.csm_b)
    set_color(habits, "habits", "red", "Active users down 45% over 90 days")
    lane.lane_refresh_all()
    assert lane_of(red) == {"renewal_at_risk": "open"}
    assert lane_of(yellow) == lane_of(far) == lane_of(churned) == {}
    assert lane_of(habits) == {"habits_red": "open"}
    assert "Active users down 45%" in AccountSuggestion.objects.get(account=habits).reason


def test_a_flagged_account_at_level_one_is_in_the_lane_and_leaves_it_at_level_two(org):
    account = renewing_red(org)
    escalation = flag(open_cta(account, org.csm_a, area="support"), org.csm_a)
    lane.lane_refresh([account.pk])
    rows, total = selectors.level_two_lane()
    assert [(r.account, r.open_level) for r in rows] == [(account, 1)] and total == 1
    services.escalation_escalate(escalation=escalation, by=org.lead_a, level=2, reason="VP")
    assert selectors.level_two_lane() == ([], 0)  # at once, before any refresh
    lane.lane_refresh([account.pk])
    assert lane_of(account) == {}


def test_accepting_opens_level_two_with_a_new_cta_and_tells_the_lead(
    org, django_capture_on_commit_callbacks
):
    account = edm_left(org, name="Redwood Partners")
    lane.lane_refresh([account.pk])
    suggestion = AccountSuggestion.objects.get(account=account)
    with django_capture_on_commit_callbacks(execute=True):
        escalation = lane.lane_accept(suggestion=suggestion, by=org.vp)
    assert escalation.level == 2 and escalation.is_open
    cta = escalation.cta
    assert (cta.flagged, cta.area, cta.owner, cta.account) == (True, "company", org.csm_a, account)
    assert "Dana Boss" in escalation.steps.get(action="escalated").reason
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by, suggestion.escalation) == (
        "accepted",
        org.vp,
        escalation,
    )
    told = Notification.objects.get(user=org.lead_a, kind="escalated")
    assert "level 2" in told.title and "Dana Boss" in told.body
    assert AuditEntry.objects.filter(action="escalation.lane_accepted", actor=org.vp).exists()
    with pytest.raises(ValidationError, match="already decided"):
        lane.lane_accept(suggestion=suggestion, by=org.vp)


def test_accepting_raises_the_flagged_cta_instead_of_opening_one(org):
    account = renewing_red(org)
    escalation = flag(open_cta(account, org.csm_a, area="support"), org.csm_a)
    lane.lane_refresh([account.pk])
    raised = lane.lane_accept(suggestion=AccountSuggestion.objects.get(account=account), by=org.vp)
    assert raised.pk == escalation.pk and raised.level == 2
    assert Cta.objects.filter(account=account).count() == 1


def test_only_who_may_raise_level_two_decides(org, account_b):
    account = renewing_red(org)
    lane.lane_refresh([account.pk])
    suggestion = AccountSuggestion.objects.get(account=account)
    for person in (org.csm_a, org.lead_b, org.support):
        with pytest.raises(PermissionDenied):
            lane.lane_dismiss(suggestion=suggestion, by=person)
    suggestion.refresh_from_db()
    assert suggestion.status == "open"
    lane.lane_dismiss(suggestion=suggestion, by=org.lead_a, note="Renewal call on Friday")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by, suggestion.note) == (
        "dismissed",
        org.lead_a,
        "Renewal call on Friday",
    )


def test_a_dismissed_suggestion_stays_dismissed_until_its_reason_changes(org):
    account = renewing_red(org)
    lane.lane_refresh([account.pk])
    suggestion = AccountSuggestion.objects.get(account=account)
    lane.lane_dismiss(suggestion=suggestion, by=org.vp)
    lane.lane_refresh_all()
    assert lane_of(account) == {"renewal_at_risk": "dismissed"}
    set_overall(account, "yellow")  # the reason goes away…
    lane.lane_refresh([account.pk])
    set_overall(account, "red")  # …and comes back on the same renewal: still dismissed
    lane.lane_refresh([account.pk])
    assert lane_of(account) == {"renewal_at_risk": "dismissed"}
    Account.objects.filter(pk=account.pk).update(renewal_date=NOW.date() + dt.timedelta(days=30))
    lane.lane_refresh([account.pk])
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by) == ("open", None)
    assert "Renewal in 30 days" in suggestion.reason


def test_an_open_suggestion_whose_reason_went_away_leaves_the_lane(org):
    account = renewing_red(org)
    lane.lane_refresh([account.pk])
    set_overall(account, "green")
    lane.lane_refresh([account.pk])
    assert lane_of(account) == {}


def test_a_colour_change_refreshes_the_account(org):
    account = renewing_red(org)
    events.color_changed.send(
        sender=None, account_id=account.pk, area="overall", old="yellow", new="red"
    )
    assert lane_of(account) == {"renewal_at_risk": "open"}


def test_a_batch_of_colour_changes_refreshes_the_lane_once_per_rule(org, monkeypatch):
    """A recompute sends its colour changes as one batch: the lane is refreshed once for
    all the accounts a rule can move (in LANE_BATCH chunks), not in a task per change."""
    accounts = [renewing_red(org) for _ in range(5)]
    calls: list[tuple[list[int], list[str] | None]] = []
    real = tasks.lane_refresh_task.run
    monkeypatch.setattr(
        tasks.lane_refresh_task,
        "run",
        lambda ids, only=None: calls.append((ids, only)) or real(ids, only),
    )
    monkeypatch.setattr(lane, "LANE_BATCH", 4)
    change = {"area": "overall", "old": "yellow", "new": "red"}
    with events.batch():
        for a in accounts:
            events.color_changed.send(sender=None, account_id=a.pk, **change)
            events.color_changed.send(
                sender=None, account_id=a.pk, area="habits", old="green", new="yellow"
            )
        assert calls == []  # gathered until the batch ends
    ids = sorted(a.pk for a in accounts)
    assert calls == [(ids[:4], ["renewal_at_risk"]), (ids[4:], ["renewal_at_risk"])]
    assert all(lane_of(a) == {"renewal_at_risk": "open"} for a in accounts)


def test_the_beat_runs_the_lane_in_batches(org, monkeypatch):
    accounts = [renewing_red(org) for _ in range(3)]
    monkeypatch.setattr(lane, "LANE_BATCH", 2)
    monkeypatch.setattr(lane.lane_sweep, "__defaults__", (0, 2))
    tasks.level_two_lane_task()  # eager: re-queues itself for the rest
    assert all(lane_of(a) == {"renewal_at_risk": "open"} for a in accounts)
    entry = settings.CELERY_BEAT_SCHEDULE["escalation-lane"]
    assert entry["task"] == "escalation.tasks.level_two_lane_task"


def test_a_registered_source_adds_its_reasons(org):
    account = AccountFactory(owner=org.csm_a)

    def top_band(ids: list[int]) -> dict[int, list[tuple[str, int, str, str]]]:
        return {account.pk: [("risk_top_band", 2, "Risk model: 71% churn, top band.", "v1")]}

    suggestion_services.register_source(top_band)
    try:
        lane.lane_refresh([account.pk])
    finally:
        suggestion_services.unregister_source(top_band)
    assert lane_of(account) == {"risk_top_band": "open"}


# --- the page -----------------------------------------------------------------------------


def test_accepting_in_place_answers_htmx_with_the_lane(org):
    account = renewing_red(org, name="Wayne Capital")
    lane.lane_refresh([account.pk])
    suggestion = AccountSuggestion.objects.get(account=account)
    response = login(org.vp).post(f"/escalations/lane/{suggestion.pk}/accept/", **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Raised to level 2" in html and f'id="lane-{suggestion.pk}"' not in html
    assert "Wayne Capital" in html and "Why level 2: Suggested (Renewal at risk)" in html
    assert Escalation.objects.get(account=account).level == 2


def test_dismissing_without_javascript_redirects_to_the_vp_queue(org):
    account = renewing_red(org)
    lane.lane_refresh([account.pk])
    suggestion = AccountSuggestion.objects.get(account=account)
    response = login(org.vp).post(
        f"/escalations/lane/{suggestion.pk}/dismiss/", {"note": "Not yet"}
    )
    assert response.status_code == 302 and response["Location"].endswith("?level=2#lane")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.note, suggestion.decided_by) == (
        "dismissed",
        "Not yet",
        org.vp,
    )


def test_the_lane_actions_refuse_the_wrong_people(client, org):
    account = renewing_red(org)
    lane.lane_refresh([account.pk])
    pk = AccountSuggestion.objects.get(account=account).pk
    assert client.post(f"/escalations/lane/{pk}/accept/").status_code == 302  # to login
    assert login(org.csm_a).post(f"/escalations/lane/{pk}/accept/").status_code == 403
    refused = login(org.csm_a).post(f"/escalations/lane/{pk}/accept/", **HX)
    assert refused.status_code == 403 and "may raise" in refused.content.decode()
    assert login(org.vp).get(f"/escalations/lane/{pk}/accept/").status_code == 405
    assert login(org.vp).get(f"/escalations/lane/{pk}/dismiss/").status_code == 405
    assert login(org.vp).post("/escalations/lane/999999/accept/").status_code == 404
    assert not Escalation.objects.filter(account=account).exists()


def test_a_csm_sees_no_lane(org):
    account = renewing_red(org, name="Wayne Capital")
    lane.lane_refresh([account.pk])
    html = login(org.csm_a).get("/escalations/?level=2").content.decode()
    assert "Suggested for level 2" not in html


def test_the_lane_takes_the_same_queries_for_more_rows(org, django_assert_max_num_queries):
    lane.lane_refresh([renewing_red(org).pk])
    client = login(org.vp)
    client.get("/escalations/")
    with django_assert_max_num_queries(20) as few:
        client.get("/escalations/")
    more = [renewing_red(org) for _ in range(4)] + [edm_left(org)]
    flag(open_cta(more[0], org.csm_a, area="support"), org.csm_a)
    lane.lane_refresh([a.pk for a in more])
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get("/escalations/").content.decode()
    assert len(re.findall(r'<tr id="lane-\d+"', html)) == 6


def test_dismissing_in_the_lane_dismisses_it_on_the_cta_panel_too(org):
    account = renewing_red(org)
    escalation = flag(open_cta(account, org.csm_a, area="support"), org.csm_a)
    assert escalation.suggestions.get(rule="renewal_at_risk").status == "open"
    lane.lane_refresh([account.pk])
    lane.lane_dismiss(
        suggestion=AccountSuggestion.objects.get(account=account), by=org.vp, note="Call Friday"
    )
    twin = escalation.suggestions.get(rule="renewal_at_risk")
    assert (twin.status, twin.decided_by) == ("dismissed", org.vp)
    step = escalation.steps.get(action="suggestion_dismissed")
    assert "VP's lane: Call Friday" in step.reason and step.by == org.vp
