"""Program periods, eligibility, load and capacity, ranked suggestions, assignment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts import services as accounts
from accounts.models import PriorRelationship
from csrisk.models import AuditEntry, Notification
from ctas import services as ctas
from ctas.models import Cta, CtaTask, Playbook
from sponsors import selectors, services
from sponsors.models import Program, Sponsorship
from tests.factories import AccountFactory
from tests.sponsors.conftest import TODAY, enterprise, strategic


def test_the_next_period_takes_over_on_its_start_date(program):
    nxt = Program.objects.create(
        name="H1 2027", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 6, 30)
    )
    assert Program.current(dt.date(2026, 12, 31)) == program
    assert Program.current(dt.date(2027, 1, 1)) == nxt
    assert Program.current(dt.date(2028, 1, 1)) is None


def test_eligibility_follows_tier_and_the_period_thresholds(org, program):
    yes = [enterprise(org), strategic(org)]
    no = [
        enterprise(org, arr=Decimal("99999")),
        strategic(org, arr=Decimal("200000")),
        AccountFactory(owner=org.csm_a, tier="none", arr=Decimal("900000")),
        enterprise(org, lifecycle_stage="churned"),
    ]
    eligible = set(selectors.eligible(program))
    assert set(yes) <= eligible
    assert not eligible & set(no)


def test_an_account_that_becomes_eligible_gives_its_lead_a_task(
    org, program, django_capture_on_commit_callbacks
):
    account = enterprise(org, arr=Decimal("50000"))
    with django_capture_on_commit_callbacks(execute=True):
        accounts.account_update(account=account, by=org.lead_a, arr=Decimal("120000"))
    cta = Cta.objects.get(account=account, reason="Assign an executive sponsor")
    assert cta.owner == org.lead_a and cta.source == "rule"
    assert cta.tasks.get().title == "Assign an executive sponsor"
    # de-duplicated while live
    assert services.eligibility_check() == 0
    assert Cta.objects.filter(account=account, reason="Assign an executive sponsor").count() == 1


def test_a_new_customer_uses_its_playbook_task_instead(org, program):
    account = enterprise(org)
    ctas.cta_create(
        account=account,
        by=org.csm_a,
        reason="New customer onboarding",
        type="new_customer",
        playbook=Playbook.objects.get(name="New customer onboarding"),
    )
    assert CtaTask.objects.filter(cta__account=account, title="Assign an executive sponsor")
    assert services.eligibility_check() == 0


def test_load_is_calls_a_week_from_cadences_and_help_requests(org, program, execs):
    ava, _ = execs
    for account in (strategic(org), enterprise(org)):
        services.sponsorship_assign(account=account, sponsor=ava, by=org.vp, force=True)
    load = selectors.loads(program)[ava.pk]
    # monthly: 12/52 = 0.23; quarterly: 4/52 = 0.08
    assert load.calls == Decimal("0.31")
    account = load.accounts[0]
    services.help_request_create(account=account, by=org.csm_a, context="Their CFO is cold")
    assert selectors.loads(program)[ava.pk].calls == Decimal("0.81")


def test_an_assignment_over_capacity_is_refused_unless_a_vp_overrules(org, program, execs):
    ava, _ = execs
    program.capacity_calls_per_week = Decimal("0.30")
    program.save()
    services.sponsorship_assign(account=strategic(org), sponsor=ava, by=org.lead_a)
    second = enterprise(org)
    with pytest.raises(ValidationError, match=r"over their capacity of 0\.30"):
        services.sponsorship_assign(account=second, sponsor=ava, by=org.lead_a, force=True)
    assert not Sponsorship.objects.filter(account=second).exists()
    with pytest.raises(ValidationError, match="overrule"):
        services.sponsorship_assign(account=second, sponsor=ava, by=org.vp)
    sponsorship = services.sponsorship_assign(account=second, sponsor=ava, by=org.vp, force=True)
    assert sponsorship.over_capacity
    assert selectors.loads(program)[ava.pk].over
    assert "overruled" in AuditEntry.objects.filter(action="sponsor.assigned").first().reason


def test_suggestions_rank_relationship_then_fit_then_capacity(org, program, execs):
    ava, ben = execs
    account = enterprise(org, industry="Software")
    PriorRelationship.objects.create(
        account=account, person=org.executive, kind="sales_cycle", note="Ran the deal"
    )
    services.sponsorship_assign(account=strategic(org), sponsor=ava, by=org.vp)
    ranked = selectors.candidates(account, program)
    assert [c.sponsor for c in ranked[:2]] == [org.executive, ben]
    assert ranked[-1].sponsor == ava  # the only one carrying load ranks last
    assert [c.rank for c in ranked] == list(range(1, len(ranked) + 1))
    first, second = ranked[0], ranked[1]
    assert "Was in the sales cycle — Ran the deal" in first.reasons
    assert "knows the Mid-market segment" in second.reasons and "knows Software" in second.reasons
    assert any("calls a week free" in r for r in first.reasons)


def test_assigning_is_audited_told_and_completes_the_assign_task(
    org, program, execs, django_capture_on_commit_callbacks
):
    ava, ben = execs
    account = enterprise(org)
    services.eligibility_check()
    assign_cta = Cta.objects.get(account=account, reason="Assign an executive sponsor")
    with django_capture_on_commit_callbacks(execute=True):
        services.sponsorship_assign(account=account, sponsor=ava, by=org.lead_a, reason="Fit")
    assign_cta.refresh_from_db()
    assert assign_cta.status == "closed"
    assert assign_cta.tasks.get().done_at is not None
    assert Notification.objects.get(user=ava, kind="sponsor_assigned").title.endswith(account.name)
    services.sponsorship_assign(account=account, sponsor=ben, by=org.lead_a, reason="Better fit")
    assert Sponsorship.objects.get(account=account, ended_on=None).sponsor == ben
    assert Sponsorship.objects.get(account=account, sponsor=ava).ended_on == TODAY
    actions = list(
        AuditEntry.objects.filter(account_id=account.pk, action__startswith="sponsor.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["sponsor.assigned", "sponsor.removed", "sponsor.reassigned"]
    ended = services.sponsorship_end(
        sponsorship=Sponsorship.objects.get(account=account, ended_on=None),
        by=org.vp,
        reason="Account downgraded",
    )
    assert ended.ended_on == TODAY


def test_who_may_assign(org, program, execs, account_b):
    ava, _ = execs
    with pytest.raises(PermissionDenied):
        services.sponsorship_assign(account=enterprise(org), sponsor=ava, by=org.csm_a)
    with pytest.raises(PermissionDenied):
        services.sponsorship_assign(account=account_b, sponsor=ava, by=org.lead_a)
    with pytest.raises(ValidationError, match="not an active executive"):
        services.sponsorship_assign(account=enterprise(org), sponsor=org.csm_b, by=org.vp)


def test_coverage_counts_eligible_accounts_with_and_without_a_sponsor(org, program, execs):
    ava, _ = execs
    covered, bare = enterprise(org), strategic(org)
    services.sponsorship_assign(account=covered, sponsor=ava, by=org.vp)
    result = selectors.coverage(program)
    assert (result.eligible, result.covered, result.uncovered) == (2, 1, [bare])


def test_a_note_ending_its_sentence_is_not_punctuated_twice(org, program, execs):
    account = enterprise(org, industry="Software")
    PriorRelationship.objects.create(
        account=account, person=org.executive, kind="sales_cycle", note="Ran the deal."
    )
    first = selectors.candidates(account, program)[0]
    assert "Was in the sales cycle — Ran the deal" in first.reasons
    assert not any(".;" in r or ".." in r for r in first.reasons)
