"""Flag = level 1 with routing; levels 2 and 3; de-escalate, acknowledge, resolve; the
timeline and the audit trail; mention-to-escalate; permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from csrisk.models import AuditEntry, Notification
from csrisk.roles import Role, TeamFunction
from ctas import services as ctas
from escalation import services
from escalation.models import Escalation, EscalationLevel, EscalationStep, Meeting
from tests.escalation.conftest import NOW, flag, open_cta
from tests.factories import AccountFactory, TeamFactory, UserFactory


def route_names(escalation: Escalation) -> set[str]:
    return {r["name"] for r in escalation.routes}


def test_it_opens_level_one_when_a_cta_is_flagged(org, flagged):
    assert flagged.level == 1
    assert flagged.opened_by == org.csm_a
    assert flagged.reason == "Need help with their exec"
    # one business day to acknowledge, from a Monday 09:00
    assert flagged.deadline_at == NOW + dt.timedelta(days=1)
    step = EscalationStep.objects.get(escalation=flagged, action="opened")
    assert (step.action, step.to_level, step.by) == ("opened", 1, org.csm_a)


def test_it_routes_cs_areas_to_the_lead_and_the_friday_cs_meeting(org, flagged):
    assert {"kind": "lead", "id": org.lead_a.pk, "name": str(org.lead_a)} in flagged.routes
    assert "Friday CS customer issues" in route_names(flagged)
    assert "Wednesday support risk" not in route_names(flagged)


def test_it_routes_support_to_the_support_meeting(org, account_a):
    escalation = flag(
        open_cta(account_a, org.csm_a, area="support", reason="Tickets up"), org.csm_a
    )
    names = route_names(escalation)
    assert "Wednesday support risk" in names
    assert "Friday CS customer issues" not in names
    assert any(r["kind"] == "team" and r["function"] == "support" for r in escalation.routes)


def test_it_routes_implementation_to_the_services_meeting(org, account_a):
    escalation = flag(open_cta(account_a, org.csm_a, area="implementation"), org.csm_a)
    assert "Friday implementation risk" in route_names(escalation)


def test_a_renewal_soon_also_goes_to_the_cs_meeting(org):
    soon = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=30))
    escalation = flag(open_cta(soon, org.csm_a, area="support"), org.csm_a)
    assert {"Wednesday support risk", "Friday CS customer issues"} <= route_names(escalation)


def test_the_renewal_window_is_configuration(org):
    Meeting.objects.filter(slug="friday-cs-customer-issues").update(renewal_window_days=10)
    later = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=30))
    escalation = flag(open_cta(later, org.csm_a, area="support"), org.csm_a)
    assert "Friday CS customer issues" not in route_names(escalation)


@pytest.mark.parametrize(
    ("area", "queue", "function"),
    [
        ("readiness", "Readiness queue", TeamFunction.READINESS),
        ("product", "Product queue", TeamFunction.PRODUCT),
        ("defect", "Engineering defect queue", TeamFunction.ENGINEERING),
    ],
)
def test_department_areas_go_to_a_live_queue_with_an_immediate_notice(
    org, account_a, django_capture_on_commit_callbacks, area, queue, function
):
    team = TeamFactory(name=f"{function} team", function=function)
    person = UserFactory(username=f"{area}_person", role=Role.PRODUCT, team=team)
    bystander = UserFactory(username=f"{area}_other", role=Role.SUPPORT, team=org.support.team)
    with django_capture_on_commit_callbacks(execute=True):
        escalation = flag(open_cta(account_a, org.csm_a, area=area), org.csm_a)
    assert queue in route_names(escalation)
    notice = Notification.objects.get(user=person, kind="escalation_queue")
    assert queue in notice.title and account_a.name in notice.title
    assert not Notification.objects.filter(user=bystander, kind="escalation_queue").exists()


def test_the_team_lead_is_told_at_once(org, account_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        flag(open_cta(account_a, org.csm_a), org.csm_a)
    assert Notification.objects.filter(user=org.lead_a, kind="cta_flagged").count() == 1


def test_escalating_to_level_two_tells_the_vp(org, flagged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_escalate(
            escalation=flagged, by=org.lead_a, level=2, reason="Renewal at risk"
        )
    flagged.refresh_from_db()
    assert flagged.level == 2
    assert flagged.acknowledged_at is None
    vp = Notification.objects.get(user=org.vp, kind="escalated")
    assert "level 2" in vp.title and "Renewal at risk" in vp.body
    assert Notification.objects.filter(user=org.csm_a, kind="escalated").exists()
    assert not Notification.objects.filter(user=org.ceo, kind="escalated").exists()
    assert not Notification.objects.filter(user=org.lead_a, kind="escalated").exists()  # actor
    step = flagged.steps.get(action="escalated")
    assert (step.from_level, step.to_level, step.by, step.reason) == (
        1,
        2,
        org.lead_a,
        "Renewal at risk",
    )
    entry = AuditEntry.objects.get(action="escalation.escalated")
    assert entry.account_id == flagged.account_id
    assert entry.changes == {"level": [1, 2]}
    assert entry.actor == org.lead_a


def test_level_three_tells_the_ceo(org, flagged, django_capture_on_commit_callbacks):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="VP please")
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_escalate(
            escalation=flagged, by=org.vp, level=3, reason="CEO knows them"
        )
    assert Notification.objects.get(user=org.ceo, kind="escalated").body.endswith("CEO knows them")


def test_a_csm_cannot_escalate_to_level_three_directly(org, flagged):
    with pytest.raises(PermissionDenied, match="Level 3 is raised by: VP"):
        services.escalation_escalate(escalation=flagged, by=org.csm_a, level=3, reason="help")
    flagged.refresh_from_db()
    assert flagged.level == 1
    assert not flagged.steps.filter(action="escalated").exists()


def test_it_can_be_configured_to_let_a_csm_reach_level_three(org, flagged):
    EscalationLevel.objects.filter(level=3).update(raised_by_roles=["csm", "vp_cs", "ceo"])
    services.escalation_escalate(escalation=flagged, by=org.csm_a, level=3, reason="help")
    flagged.refresh_from_db()
    assert flagged.level == 3


def test_someone_outside_the_cta_cannot_escalate(org, flagged):
    with pytest.raises(PermissionDenied):
        services.escalation_escalate(escalation=flagged, by=org.csm_b, level=2, reason="x")


def test_escalating_needs_a_reason_and_a_higher_level(org, flagged):
    with pytest.raises(ValidationError):
        services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason=" ")
    with pytest.raises(ValidationError, match="level 1 already"):
        services.escalation_escalate(escalation=flagged, by=org.lead_a, level=1, reason="x")


def test_who_sits_at_a_level_is_configuration(org, flagged, django_capture_on_commit_callbacks):
    deputy = UserFactory(username="deputy", role=Role.EXECUTIVE)
    EscalationLevel.objects.get(level=2).people.set([deputy])
    with django_capture_on_commit_callbacks(execute=True):
        services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="x")
    assert Notification.objects.filter(user=deputy, kind="escalated").exists()
    assert not Notification.objects.filter(user=org.vp, kind="escalated").exists()


def test_the_vp_hands_it_back_down(org, flagged):
    services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="x")
    with pytest.raises(PermissionDenied):
        services.escalation_de_escalate(escalation=flagged, by=org.csm_a, level=1, reason="no")
    services.escalation_de_escalate(
        escalation=flagged, by=org.vp, level=1, reason="Lead has a plan"
    )
    flagged.refresh_from_db()
    assert flagged.level == 1
    step = flagged.steps.get(action="de_escalated")
    assert (step.from_level, step.to_level, step.by) == (2, 1, org.vp)


def test_acknowledging_is_for_the_current_level(org, flagged):
    with pytest.raises(PermissionDenied):
        services.escalation_acknowledge(escalation=flagged, by=org.csm_a)
    services.escalation_acknowledge(escalation=flagged, by=org.lead_a, note="On it")
    flagged.refresh_from_db()
    assert flagged.acknowledged_by == org.lead_a
    assert flagged.steps.get(action="acknowledged").reason == "On it"
    with pytest.raises(ValidationError, match="Already acknowledged"):
        services.escalation_acknowledge(escalation=flagged, by=org.lead_a)


def test_resolving_unflags_the_cta_and_records_it(org, flagged):
    services.escalation_resolve(escalation=flagged, by=org.lead_a, reason="Exec call went well")
    flagged.refresh_from_db()
    flagged.cta.refresh_from_db()
    assert flagged.status == "resolved"
    assert flagged.resolution == "Exec call went well"
    assert flagged.cta.flagged is False
    assert flagged.cta.status == "open"
    assert flagged.steps.filter(action="resolved").count() == 1
    assert AuditEntry.objects.filter(action="cta.unflagged").exists()


def test_unflagging_or_closing_the_cta_resolves_it(org, account_a, flagged):
    ctas.cta_unflag(cta=flagged.cta, by=org.csm_a, reason="Sorted")
    flagged.refresh_from_db()
    assert (flagged.status, flagged.resolution) == ("resolved", "Sorted")
    again = flag(flagged.cta, org.csm_a, reason="Worse again")
    assert again.pk != flagged.pk and again.level == 1
    ctas.cta_close(cta=again.cta, by=org.csm_a, outcome="lost")
    again.refresh_from_db()
    assert again.status == "resolved"
    assert again.resolution.startswith("CTA closed")


def test_a_resolved_escalation_cannot_move(org, flagged):
    services.escalation_resolve(escalation=flagged, by=org.lead_a, reason="done")
    with pytest.raises(ValidationError, match="resolved"):
        services.escalation_escalate(escalation=flagged, by=org.lead_a, level=2, reason="x")


def test_mentioning_the_vp_on_a_flagged_cta_escalates_to_level_two(
    org, flagged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ctas.comment_add(cta=flagged.cta, by=org.lead_a, body="@vp can you call their CFO?")
    flagged.refresh_from_db()
    assert flagged.level == 2
    step = flagged.steps.get(action="escalated")
    assert step.by == org.lead_a and "@vp" in step.reason
    assert flagged.steps.filter(action="commented").exists()
    assert Notification.objects.filter(user=org.vp, kind="escalated").exists()


def test_mentioning_the_ceo_goes_as_high_as_the_author_may(org, flagged):
    ctas.comment_add(cta=flagged.cta, by=org.lead_a, body="@ceo knows them")
    flagged.refresh_from_db()
    assert flagged.level == 2  # a team lead may raise to level 2; the VP takes it on
    ctas.comment_add(cta=flagged.cta, by=org.vp, body="Agreed, @ceo please call")
    flagged.refresh_from_db()
    assert flagged.level == 3


def test_a_mention_on_an_unflagged_cta_does_not_escalate(org, account_a):
    cta = open_cta(account_a, org.csm_a)
    ctas.comment_add(cta=cta, by=org.csm_a, body="FYI @vp")
    assert not Escalation.objects.exists()


def test_commenting_is_on_the_timeline(org, flagged):
    ctas.comment_add(cta=flagged.cta, by=org.csm_a, body="Called them, no answer")
    step = flagged.steps.get(action="commented")
    assert (step.by, step.reason) == (org.csm_a, "Called them, no answer")


def test_reflagging_while_open_does_not_open_a_second(org, flagged):
    again = services.escalation_open(cta=flagged.cta, by=org.csm_a, reason="dup")
    assert again.pk == flagged.pk
    assert Escalation.objects.count() == 1
