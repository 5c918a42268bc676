"""Recurring check-ins: one per slot, idempotent, catching up; the sponsor is told whom to
write to; logging the outcome; a risk found becomes a risk CTA; overdue chasing; help."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from csrisk import clock
from csrisk.models import Notification
from ctas.models import Cta
from scorecards import services as scorecards
from scorecards.models import AreaScore
from sponsors import selectors, services
from sponsors.models import CheckIn, HelpRequest
from tests.factories import ContactFactory
from tests.sponsors.conftest import NOW, enterprise, strategic


@pytest.fixture
def sponsored(org, program, execs):
    ava, _ = execs
    account = strategic(org, name="Monthly Co")
    ContactFactory(
        account=account, name="Erin Exec", title="COO", email="erin@monthly.example", roles=["edm"]
    )
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    return account, ava


def test_it_creates_the_current_slot_check_in_once(
    org, sponsored, django_capture_on_commit_callbacks
):
    _, ava = sponsored
    with django_capture_on_commit_callbacks(execute=True):
        assert services.checkins_create_due() == 1
        assert services.checkins_create_due() == 0
    checkin = CheckIn.objects.get()
    # strategic: monthly from the program start (Jul 1) — November's slot, due Nov 30
    assert (checkin.slot, checkin.slot_start, checkin.due_date) == (
        4,
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 30),
    )
    cta = checkin.cta
    assert (cta.type, cta.owner, cta.source, cta.due_date) == (
        "sponsor_checkin",
        ava,
        "program",
        dt.date(2026, 11, 30),
    )
    assert cta.playbook.name == "Sponsor check-in"
    notice = Notification.objects.get(user=ava, kind="sponsor_checkin")
    assert "Erin Exec, COO (erin@monthly.example)" in notice.body
    assert "Are we on track to the goals you bought us for?" in notice.body


def test_it_warns_when_there_is_no_decision_maker(
    org, program, execs, django_capture_on_commit_callbacks
):
    ava, _ = execs
    account = enterprise(org, name="No EDM Co")
    services.sponsorship_assign(account=account, sponsor=ava, by=org.vp)
    with django_capture_on_commit_callbacks(execute=True):
        services.checkins_create_due()
    notice = Notification.objects.get(user=ava, kind="sponsor_checkin")
    assert "no Executive Decision Maker contact" in notice.body


def test_the_next_slot_gets_its_own_and_downtime_catches_up(org, sponsored):
    services.checkins_create_due()
    with clock.frozen(NOW + dt.timedelta(days=40)):  # Dec 12: the beat was down a month
        assert services.checkins_create_due() == 1
        assert services.checkins_create_due() == 0
    slots = list(CheckIn.objects.order_by("slot").values_list("slot_start", flat=True))
    assert slots == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]


def test_a_quarterly_account_checks_in_each_quarter(org, program, execs):
    ava, _ = execs
    services.sponsorship_assign(account=enterprise(org), sponsor=ava, by=org.vp)
    services.checkins_create_due()
    checkin = CheckIn.objects.get()
    assert (checkin.slot_start, checkin.due_date) == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    with clock.frozen(NOW + dt.timedelta(days=30)):
        assert services.checkins_create_due() == 0


def test_no_check_in_outside_a_program_or_without_a_sponsor(org, program):
    strategic(org)
    assert services.checkins_create_due() == 0
    with clock.frozen(dt.datetime(2027, 3, 1, tzinfo=dt.UTC)):
        assert services.checkins_create_due() == 0


def test_logging_records_the_outcome_and_closes_the_cta(org, sponsored):
    _, ava = sponsored
    services.checkins_create_due()
    checkin = CheckIn.objects.get()
    with pytest.raises(PermissionDenied):
        services.checkin_log(checkin=checkin, by=org.csm_a, notes="x", sentiment="neutral")
    with pytest.raises(ValidationError):
        services.checkin_log(
            checkin=checkin,
            by=ava,
            notes="Good",
            sentiment="neutral",
            risks=[{"area": "nowhere", "description": "x"}],
        )
    logged = services.checkin_log(
        checkin=checkin,
        by=ava,
        notes="Their COO is evaluating a rival",
        sentiment="negative",
        risks=[{"area": "product", "description": "Evaluating Rival Inc"}, {"description": ""}],
    )
    assert logged.risks == [{"area": "product", "description": "Evaluating Rival Inc", "cta": None}]
    logged.cta.refresh_from_db()
    assert (logged.cta.status, logged.cta.outcome) == ("closed", "done")
    assert not logged.cta.tasks.filter(done_at__isnull=True).exists()
    with pytest.raises(ValidationError, match="logged already"):
        services.checkin_log(checkin=checkin, by=ava, notes="again", sentiment="neutral")


def test_a_risk_found_opens_a_risk_cta_with_one_click(org, sponsored):
    _, ava = sponsored
    services.checkins_create_due()
    checkin = services.checkin_log(
        checkin=CheckIn.objects.get(),
        by=ava,
        notes="COO unhappy",
        sentiment="negative",
        risks=[{"area": "product", "description": "Evaluating Rival Inc"}],
    )
    cta = services.checkin_open_risk(checkin=checkin, index=0, by=ava)
    assert (cta.type, cta.area, cta.owner, cta.priority) == ("risk", "product", org.csm_a, "high")
    assert "Evaluating Rival Inc" in cta.reason
    again = services.checkin_open_risk(checkin=checkin, index=0, by=ava)
    assert again.pk == cta.pk
    checkin.refresh_from_db()
    assert checkin.risks[0]["cta"] == cta.pk
    with pytest.raises(ValidationError):
        services.checkin_open_risk(checkin=checkin, index=3, by=ava)


def test_it_holds_the_area_yellow_for_a_risk_the_sponsor_found(org, sponsored):
    # A risk a person raised counts for the scorecard, whichever program opened its CTA.
    account, ava = sponsored
    scorecards.recompute([account.pk])
    assert AreaScore.objects.get(account=account, area="product").color == "green"
    services.checkins_create_due()
    checkin = services.checkin_log(
        checkin=CheckIn.objects.get(),
        by=ava,
        notes="Piloting a competitor",
        sentiment="negative",
        risks=[{"area": "product", "description": "Piloting Rival Inc"}],
    )
    cta = services.checkin_open_risk(checkin=checkin, index=0, by=ava)
    area = AreaScore.objects.get(account=account, area="product")
    assert area.color == "yellow"
    held_by = [ref for r in area.reasons if r["kind"] == "cta" for ref in r["refs"]]
    assert held_by == [{"type": "cta", "id": cta.pk}]


def test_an_overdue_check_in_is_highlighted_and_the_lead_told_once(org, sponsored):
    services.checkins_create_due()
    with clock.frozen(NOW + dt.timedelta(days=29)):  # Dec 1
        assert services.checkins_chase_overdue() == 1
        assert services.checkins_chase_overdue() == 0
    notice = Notification.objects.get(user=org.lead_a, kind="sponsor_checkin_overdue")
    assert "Monthly Co" in notice.title


def test_a_help_request_is_a_cta_for_the_sponsor(
    org, sponsored, account_b, django_capture_on_commit_callbacks
):
    account, ava = sponsored
    with django_capture_on_commit_callbacks(execute=True):
        request = services.help_request_create(
            account=account, by=org.csm_a, context="Their CFO will not take my calls"
        )
    assert (request.cta.type, request.cta.owner) == ("sponsor_help", ava)
    assert Notification.objects.filter(user=ava, kind="sponsor_help").exists()
    with pytest.raises(PermissionDenied):
        services.help_request_create(account=account, by=org.csm_b, context="x")
    with pytest.raises(ValidationError, match="no sponsor"):
        services.help_request_create(account=account_b, by=org.vp, context="x")
    assert selectors.loads(request.sponsorship.account and _program())[ava.pk].help_requests == 1
    assert HelpRequest.objects.count() == 1
    assert Cta.objects.filter(type="sponsor_help").count() == 1


def _program():
    from sponsors.models import Program

    return Program.current()
