"""csrisk suggests level 2 (renewal at risk, habits red, executive decision maker gone) and
level 3 (the CEO knows the customer); one click accepts, dismissing is recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import PeopleChange, PriorRelationship
from csrisk import clock
from escalation import services
from escalation.models import Escalation, Suggestion
from scorecards import services as scorecards
from tests.escalation.conftest import NOW, flag, open_cta, set_color, set_overall
from tests.factories import AccountFactory, ContactFactory


def red_habits(org, account, why: str = "Usage collapsed") -> None:
    """Habits red by a person's override (it sticks through the flag's recompute)."""
    scorecards.override_set(
        account=account,
        area="habits",
        color="red",
        reason=why,
        expires_at=NOW + dt.timedelta(days=30),
        by=org.lead_a,
    )


def rules_of(escalation) -> set[str]:
    return set(escalation.suggestions.values_list("rule", flat=True))


def test_a_renewal_at_risk_suggests_level_two(org):
    account = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=45))
    # the flag itself turns the account red: a flagged problem 45 days before renewal
    escalation = flag(open_cta(account, org.csm_a, area="support"), org.csm_a)
    suggestion = escalation.suggestions.get(rule="renewal_at_risk")
    assert suggestion.level == 2
    assert "Renewal in 45 days" in suggestion.reason and "red" in suggestion.reason


def test_a_far_renewal_suggests_nothing(org):
    far = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=200))
    escalation = flag(open_cta(far, org.csm_a, area="support"), org.csm_a)
    assert "renewal_at_risk" not in rules_of(escalation)


def test_a_green_renewal_suggests_nothing(org):
    green = AccountFactory(owner=org.csm_a, renewal_date=NOW.date() + dt.timedelta(days=45))
    set_overall(green, "green")
    # a lifecycle CTA has no area, so flagging it leaves the scorecard green
    escalation = flag(open_cta(green, org.csm_a, area="", type="lifecycle"), org.csm_a)
    assert "renewal_at_risk" not in rules_of(escalation)
    set_overall(green, "yellow")
    services.suggestions_refresh(escalation)
    assert "renewal_at_risk" in rules_of(escalation)


def test_a_habits_scorecard_red_by_its_measures_suggests_level_two(org, account_a):
    red_habits(org, account_a, "Active users down 45% over 90 days")
    escalation = flag(open_cta(account_a, org.csm_a, area="sentiment"), org.csm_a)
    suggestion = escalation.suggestions.get(rule="habits_red")
    assert "Active users down 45%" in suggestion.reason


def test_a_flag_alone_does_not_count_as_a_red_habits_scorecard(org, flagged):
    # the flagged habits CTA turned habits red, but the measures did not
    assert "habits_red" not in rules_of(flagged)


@pytest.mark.parametrize("how", ["people_change", "contact_left", "title_change"])
def test_the_executive_decision_maker_leaving_or_changing_role_suggests_level_two(
    org, account_a, how
):
    edm = ContactFactory(account=account_a, name="Dana Boss", roles=["edm"], title="VP Ops")
    if how == "people_change":
        PeopleChange.objects.create(
            account=account_a,
            contact=edm,
            change="left",
            occurred_at=NOW - dt.timedelta(days=10),
            roles=["edm"],
        )
    elif how == "contact_left":
        edm.at_company = False
        edm.left_on = NOW.date() - dt.timedelta(days=5)
        edm.save()
    else:  # the one record of a people change
        PeopleChange.objects.create(
            account=account_a,
            contact=edm,
            change="title_changed",
            occurred_at=NOW - dt.timedelta(days=3),
            roles=["edm"],
            old_title="VP Ops",
            new_title="Manager",
        )
    escalation = flag(open_cta(account_a, org.csm_a, area="company"), org.csm_a)
    suggestion = escalation.suggestions.get(rule="edm_changed")
    assert "Dana Boss" in suggestion.reason and suggestion.level == 2


def test_an_old_people_change_or_a_champion_suggests_nothing(org, account_a):
    champion = ContactFactory(account=account_a, roles=["champion"])
    PeopleChange.objects.create(
        account=account_a, contact=champion, change="left", occurred_at=NOW, roles=["champion"]
    )
    edm = ContactFactory(account=account_a, roles=["edm"])
    PeopleChange.objects.create(
        account=account_a,
        contact=edm,
        change="left",
        occurred_at=NOW - dt.timedelta(days=200),
        roles=["edm"],
    )
    escalation = flag(open_cta(account_a, org.csm_a, area="company"), org.csm_a)
    assert "edm_changed" not in rules_of(escalation)


def test_a_ceo_relationship_suggests_level_three(org, account_a):
    PriorRelationship.objects.create(
        account=account_a, person=org.ceo, kind="personal", note="Board together"
    )
    PriorRelationship.objects.create(account=account_a, person=org.executive, kind="sales_cycle")
    escalation = flag(open_cta(account_a, org.csm_a), org.csm_a)
    suggestion = escalation.suggestions.get(rule="ceo_relationship")
    assert suggestion.level == 3
    assert "Board together" in suggestion.reason


def test_accepting_a_suggestion_escalates_with_its_reason(org, account_a):
    red_habits(org, account_a, "Usage halved")
    escalation = flag(open_cta(account_a, org.csm_a, area="sentiment"), org.csm_a)
    suggestion = escalation.suggestions.get(rule="habits_red")
    services.suggestion_accept(suggestion=suggestion, by=org.lead_a)
    escalation.refresh_from_db()
    suggestion.refresh_from_db()
    assert escalation.level == 2
    assert (suggestion.status, suggestion.decided_by) == ("accepted", org.lead_a)
    assert "Usage halved" in escalation.steps.get(action="escalated").reason
    with pytest.raises(ValidationError, match="already decided"):
        services.suggestion_accept(suggestion=suggestion, by=org.lead_a)


def test_accepting_needs_the_right_to_escalate_and_changes_nothing_otherwise(org, account_a):
    PriorRelationship.objects.create(account=account_a, person=org.ceo, kind="personal")
    escalation = flag(open_cta(account_a, org.csm_a), org.csm_a)
    suggestion = escalation.suggestions.get(rule="ceo_relationship")
    with pytest.raises(PermissionDenied):
        services.suggestion_accept(suggestion=suggestion, by=org.csm_a)
    suggestion.refresh_from_db()
    assert suggestion.status == "open"


def test_dismissing_is_recorded_and_not_suggested_again(org, account_a):
    red_habits(org, account_a)
    escalation = flag(open_cta(account_a, org.csm_a, area="sentiment"), org.csm_a)
    suggestion = escalation.suggestions.get(rule="habits_red")
    services.suggestion_dismiss(suggestion=suggestion, by=org.lead_a, note="Seasonal dip")
    suggestion.refresh_from_db()
    assert (suggestion.status, suggestion.decided_by, suggestion.note) == (
        "dismissed",
        org.lead_a,
        "Seasonal dip",
    )
    step = escalation.steps.get(action="suggestion_dismissed")
    assert step.by == org.lead_a and "Seasonal dip" in step.reason
    services.sweep()
    assert Suggestion.objects.filter(escalation=escalation, rule="habits_red").count() == 1
    assert Suggestion.objects.get(escalation=escalation, rule="habits_red").status == "dismissed"


def test_someone_uninvolved_cannot_dismiss(org, account_a):
    red_habits(org, account_a)
    escalation = flag(open_cta(account_a, org.csm_a, area="sentiment"), org.csm_a)
    with pytest.raises(PermissionDenied):
        services.suggestion_dismiss(
            suggestion=escalation.suggestions.get(rule="habits_red"), by=org.csm_b
        )


def test_a_suggestion_appearing_later_is_picked_up_by_the_sweep(org, flagged):
    assert not flagged.suggestions.exists()
    set_color(flagged.account, "habits", "red", "Logins collapsed")
    # the area is red by the flag; the measures now say red too. Checked hourly:
    assert services.sweep()["suggested"] == 0
    with clock.frozen(NOW + dt.timedelta(minutes=61)):
        assert services.sweep()["suggested"] == 1
    assert flagged.suggestions.get().rule == "habits_red"


def test_a_stale_copy_does_not_suggest_the_level_already_reached(org, account_a):
    red_habits(org, account_a)
    escalation = flag(open_cta(account_a, org.csm_a, area="sentiment"), org.csm_a)
    stale = Escalation.objects.get(pk=escalation.pk)
    services.escalation_escalate(escalation=escalation, by=org.lead_a, level=2, reason="VP")
    Suggestion.objects.all().delete()
    assert services.suggestions_refresh(stale) == []
