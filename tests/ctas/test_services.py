"""CTA state changes: race-safe, audited, scorecard effect at once, notifications."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from csrisk import clock
from csrisk.models import AuditEntry, Notification
from ctas import services
from ctas.models import Cta, Playbook
from scorecards import services as scorecards
from scorecards.models import AreaScore
from tests.factories import ContactFactory

NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def green(account_a):
    ContactFactory(account=account_a, roles=["edm"])
    scorecards.recompute([account_a.pk])
    return account_a


def color(account, area: str) -> str:
    return AreaScore.objects.get(account=account, area=area).color


def open_risk(account, by, **kw) -> Cta:
    return services.cta_create(account=account, by=by, reason="Usage review", area="habits", **kw)


def test_opening_a_manual_risk_cta_turns_its_area_yellow(org, green):
    cta = open_risk(green, org.csm_a)
    assert (cta.owner, cta.status, cta.due_date) == (org.csm_a, "open", dt.date(2026, 11, 9))
    assert color(green, "habits") == "yellow"
    assert AuditEntry.objects.filter(action="cta.created", target_id=cta.pk).exists()


def test_flag_makes_it_red_tells_the_lead_and_unflag_and_close_release_it(
    org, green, django_capture_on_commit_callbacks
):
    cta = open_risk(green, org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=cta, by=org.csm_a, reason="Champion not answering")
    assert color(green, "habits") == "red"
    note = Notification.objects.get(user=org.lead_a, kind="cta_flagged")
    assert "Champion not answering" in note.body
    services.cta_unflag(cta=cta, by=org.csm_a)
    assert color(green, "habits") == "yellow"
    services.cta_close(cta=cta, by=org.csm_a, outcome="resolved")
    assert color(green, "habits") == "green"  # the measures speak again
    actions = list(
        AuditEntry.objects.filter(target_id=cta.pk, target_type="ctas.cta")
        .order_by("at", "pk")
        .values_list("action", flat=True)
    )
    assert actions == ["cta.created", "cta.flagged", "cta.unflagged", "cta.closed"]


def test_flagging_twice_is_refused_not_duplicated(org, green):
    cta = open_risk(green, org.csm_a)
    services.cta_flag(cta=cta, by=org.csm_a, reason="help")
    with pytest.raises(ValidationError):
        services.cta_flag(cta=Cta.objects.get(pk=cta.pk), by=org.lead_a, reason="again")
    assert AuditEntry.objects.filter(action="cta.flagged").count() == 1


def test_a_flag_needs_a_reason(org, green):
    with pytest.raises(ValidationError):
        services.cta_flag(cta=open_risk(green, org.csm_a), by=org.csm_a, reason="  ")


@pytest.mark.parametrize("who", ["csm_b", "lead_b", "support", "csm_a2"])
def test_another_teams_person_cannot_flag(org, green, who):
    cta = open_risk(green, org.csm_a)
    with pytest.raises(PermissionDenied):
        services.cta_flag(cta=cta, by=getattr(org, who), reason="x")


@pytest.mark.parametrize("who", ["csm_a", "lead_a", "vp", "ceo"])
def test_the_owner_their_lead_vp_and_ceo_can_flag(org, green, who):
    services.cta_flag(cta=open_risk(green, org.csm_a), by=getattr(org, who), reason="help")


def test_closing_a_closed_cta_is_refused(org, green):
    cta = open_risk(green, org.csm_a)
    services.cta_close(cta=cta, by=org.csm_a, outcome="no_action")
    with pytest.raises(ValidationError):
        services.cta_close(cta=cta, by=org.csm_a, outcome="resolved")
    with pytest.raises(ValidationError):
        services.cta_close(cta=open_risk(green, org.csm_a), by=org.csm_a, outcome="whatever")


def test_rule_ctas_are_deduplicated_while_live(org, green):
    first = services.cta_create(
        account=green, by=None, reason="Velocity spike", area="support", source="rule"
    )
    again = services.cta_create(
        account=green, by=None, reason="Velocity spike", area="support", source="rule"
    )
    assert first.pk == again.pk
    services.cta_close(cta=first, by=org.csm_a, outcome="resolved")
    third = services.cta_create(
        account=green, by=None, reason="Velocity spike", area="support", source="rule"
    )
    assert third.pk != first.pk
    # a rule's CTA does not hold the area yellow: the measures already colour it
    assert color(green, "support") == "green"


def test_snooze_and_wake(org, green):
    cta = open_risk(green, org.csm_a)
    with pytest.raises(ValidationError):
        services.cta_snooze(cta=cta, by=org.csm_a, until=NOW.date())
    services.cta_snooze(cta=cta, by=org.csm_a, until=dt.date(2026, 11, 5))
    assert services.wake_snoozed() == 0
    with clock.frozen(NOW + dt.timedelta(days=3)):
        assert services.wake_snoozed() == 1
    cta.refresh_from_db()
    assert (cta.status, cta.snoozed_until) == ("open", None)


def test_reassign_within_the_team_only_and_the_new_owner_is_told(
    org, green, django_capture_on_commit_callbacks
):
    cta = open_risk(green, org.csm_a)
    with pytest.raises(PermissionDenied):
        services.cta_reassign(cta=cta, by=org.csm_a, owner=org.csm_b)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_reassign(cta=cta, by=org.lead_a, owner=org.csm_a2)
    cta.refresh_from_db()
    assert cta.owner == org.csm_a2
    assert Notification.objects.filter(user=org.csm_a2, kind="cta_assigned").exists()
    entry = AuditEntry.objects.get(action="cta.reassigned")
    assert entry.changes["owner"] == [org.csm_a.pk, org.csm_a2.pk]


def test_a_mention_notifies_at_once(org, green, django_capture_on_commit_callbacks):
    cta = open_risk(green, org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        comment = services.comment_add(
            cta=cta, by=org.csm_a, body="@lead_a can you call them? cc @nobody @integration"
        )
    assert list(comment.mentions.values_list("username", flat=True)) == ["lead_a"]
    note = Notification.objects.get(kind="mention")
    assert note.user == org.lead_a
    assert note.url == f"/cockpit/ctas/{cta.pk}/"


def test_a_comment_needs_words_and_rights(org, green):
    cta = open_risk(green, org.csm_a)
    with pytest.raises(ValidationError):
        services.comment_add(cta=cta, by=org.csm_a, body="   ")
    with pytest.raises(PermissionDenied):
        services.comment_add(cta=cta, by=org.csm_b, body="hi")


def test_a_playbook_creates_its_tasks_with_the_arr_gate(org, account_a, account_b):
    onboarding = Playbook.objects.get(name="New customer onboarding")
    account_a.arr = Decimal("250000")
    account_a.save()
    big = services.cta_create(
        account=account_a, by=org.csm_a, reason="Welcome", type="new_customer", playbook=onboarding
    )
    titles = list(big.tasks.values_list("title", flat=True))
    assert "Assign an executive sponsor" in titles
    assert big.tasks.get(title="Assign an executive sponsor").owner == org.lead_a
    small = services.cta_create(
        account=account_b, by=org.csm_b, reason="Welcome", type="new_customer", playbook=onboarding
    )
    assert "Assign an executive sponsor" not in small.tasks.values_list("title", flat=True)


def test_a_risk_cta_needs_an_area_and_a_reason(org, green):
    with pytest.raises(ValidationError):
        services.cta_create(account=green, by=org.csm_a, reason="x")
    with pytest.raises(ValidationError):
        services.cta_create(account=green, by=org.csm_a, reason=" ", area="habits")
    with pytest.raises(PermissionDenied):
        services.cta_create(account=green, by=org.csm_b, reason="x", area="habits")


def test_completing_a_task_once(org, account_a):
    playbook = Playbook.objects.get(name="Low adoption")
    cta = services.cta_create(
        account=account_a, by=org.csm_a, reason="Usage", area="habits", playbook=playbook
    )
    task = cta.tasks.first()
    services.task_complete(task=task, by=org.csm_a)
    with pytest.raises(ValidationError):
        services.task_complete(task=task, by=org.csm_a)


def test_a_flag_that_turns_the_account_red_tells_each_person_once(
    org, green, django_capture_on_commit_callbacks
):
    # The flag is the event: "flagged" says the account is now red; no second "turned red".
    cta = open_risk(green, org.csm_a)
    with django_capture_on_commit_callbacks(execute=True):
        services.cta_flag(cta=cta, by=org.csm_a, reason="Champion not answering")
    lead_told = list(Notification.objects.filter(user=org.lead_a).values_list("kind", "body"))
    assert [kind for kind, _ in lead_told] == ["cta_flagged"]
    assert "Alpha Inc is now red" in lead_told[0][1]
    assert not Notification.objects.filter(user=org.csm_a, kind="scorecard_red").exists()


def test_an_account_turning_red_without_a_flag_still_tells_its_people(
    org, green, django_capture_on_commit_callbacks
):
    from ctas.services import alerts

    alerts.alert_color_change(account_id=green.pk, old="yellow", new="red", reason="support red")
    assert set(
        Notification.objects.filter(kind="scorecard_red").values_list("user__username", flat=True)
    ) == {"csm_a", "lead_a"}


def test_many_accounts_turning_red_are_alerted_with_a_few_queries(
    org, django_assert_max_num_queries
):
    from ctas.services import alerts
    from tests.factories import AccountFactory

    accounts = [AccountFactory(owner=org.csm_a) for _ in range(20)]
    changes = [
        {"account_id": a.pk, "old": "yellow", "new": "red", "reason": "support red"}
        for a in accounts
    ] + [{"account_id": accounts[0].pk, "old": "red", "new": "red", "reason": "still"}]
    with django_assert_max_num_queries(8):
        told = alerts.alert_color_changes(changes)
    assert told == 40  # the owner and the owner's lead, once an account
    assert Notification.objects.filter(kind="scorecard_red").count() == 40
    backfilled = [{**changes[0], "cause": "backfill"}]
    assert alerts.alert_color_changes(backfilled) == 0
