"""The executive summary's velocity and people findings, kept from each account's last
recompute (``insights.findings``): on a book just recomputed they are what asking the
measures gives, and the summary's tables are the same either way; an account whose facts
changed since (a recompute pending) or that no recompute measured is asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, Contact, Ticket
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import clock
from insights import findings
from insights.models import MeasuredAccount, MeasureFinding
from insights.summary import blind_spots, executive_summary, prioritised_actions
from scorecards.models import PendingRecompute
from scorecards.selectors import thresholds
from scorecards.services import recompute
from tests import profile
from tests.factories import AccountFactory
from tests.insights.helpers import NOW, days_ago

# Per account: ARR (thousands), non-critical tickets in the last 90 days and in the 90
# before, days since its latest ticket, departures (role, days ago), title changes (days ago).
account_st = st.tuples(
    st.integers(10, 500),
    st.integers(0, 14),
    st.integers(0, 10),
    st.integers(0, 30),
    st.lists(
        st.tuples(st.sampled_from([["edm"], ["champion"], ["user"]]), st.integers(1, 200)),
        max_size=2,
    ),
    st.lists(st.integers(1, 200), max_size=2),
)
book_st = st.lists(account_st, min_size=1, max_size=5)


def _build(org, accounts: list[tuple]) -> list[Account]:
    built = []
    for k, (arr, recent, before, latest, departures, retitles) in enumerate(accounts):
        account = AccountFactory(
            name=f"Account {k}",
            arr=Decimal(arr * 1000),
            owner=org.csm_a,
            renewal_date=(NOW + dt.timedelta(days=20 + 40 * k)).date(),
        )
        Ticket.objects.bulk_create(
            [
                *(
                    Ticket(account=account, opened_at=days_ago(latest + 1 + i % 80))
                    for i in range(recent)
                ),
                *(Ticket(account=account, opened_at=days_ago(100 + i % 70)) for i in range(before)),
            ]
        )
        changes = [
            PeopleChangeIn(
                account_id=account.pk,
                change="left",
                occurred_at=days_ago(days),
                person={"name": f"Person {j}", "title": "CFO", "roles": roles},
            )
            for j, (roles, days) in enumerate(departures)
        ]
        for j, days in enumerate(retitles):
            contact = Contact.objects.create(
                account=account, name=f"Pat {j}", title="Head of Operations", roles=["champion"]
            )
            changes.append(
                PeopleChangeIn(
                    account_id=account.pk,
                    change="title_changed",
                    occurred_at=days_ago(days),
                    contact=contact,
                    new_title="Senior Manager, Operations",
                )
            )
        people_changes_record(changes)
        built.append(account)
    return built


def _recompute(capture) -> None:
    with capture(execute=True):  # the findings are kept after the recompute's commit
        recompute()


def _tables(s) -> tuple:
    return (
        s.total,
        s.by_area,
        s.by_segment,
        s.by_team,
        s.by_quarter,
        s.trend,
        s.blind_spots,
        s.actions,
    )


@settings(
    max_examples=profile.examples(ci=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(accounts=book_st)
def test_it_gives_the_summary_the_measures_say_on_a_book_just_recomputed(
    org, django_capture_on_commit_callbacks, accounts
):
    with clock.frozen(NOW), transaction.atomic():
        built = _build(org, accounts)
        _recompute(django_capture_on_commit_callbacks)
        ids = [a.pk for a in built]
        assert MeasuredAccount.objects.filter(account__in=ids).count() == len(ids)
        configured = thresholds()
        kept = findings.summary_findings(NOW, ids, configured)
        assert findings.kept_findings(ids, configured)[2] == []  # nobody asked
        summary, actions = executive_summary(NOW), prioritised_actions(NOW, limit=100)
        # The reference: every account asked of the measures, as each render did before.
        MeasuredAccount.objects.all().delete()
        assert kept == findings.asked_findings(NOW, ids, configured)
        assert _tables(executive_summary(NOW)) == _tables(summary)
        assert prioritised_actions(NOW, limit=100) == actions
        transaction.set_rollback(True)


@pytest.fixture
def gamma(org):
    """A green account with 10 non-critical tickets in the last 90 days and none before."""
    with clock.frozen(NOW):
        account = AccountFactory(name="Gamma", arr=Decimal("30000"), owner=org.csm_a)
        for i in range(10):
            Ticket.objects.create(account=account, opened_at=days_ago(5 + i))
        yield account


def velocity(now: dt.datetime = NOW) -> list[tuple[str, str]]:
    return [(s.account, s.sentence) for s in blind_spots(now) if s.signal == "velocity"]


def test_it_shows_what_the_last_recompute_measured(gamma, django_capture_on_commit_callbacks):
    with clock.frozen(NOW):
        for i in range(3):  # +125% is yellow: no blind spot, but an action
            Ticket.objects.create(account=gamma, opened_at=days_ago(100 + i))
        _recompute(django_capture_on_commit_callbacks)
        assert MeasureFinding.objects.filter(account=gamma).count() == 1
        (action,) = [a for a in prioritised_actions(NOW) if a.signal == "velocity"]
        assert (
            action.sentence
            == "10 non-critical tickets in the last 90 days vs 3 before (+88% against a floor of 8)"
        )
        assert action.on == days_ago(5).date()
        # Facts that reached no recompute (none pending): the scorecard's reading stands, as
        # its colours do.
        Ticket.objects.filter(account=gamma, opened_at__lt=days_ago(90)).delete()
        (action,) = [a for a in prioritised_actions(NOW) if a.signal == "velocity"]
        assert "vs 3 before" in action.sentence


def test_it_asks_the_measures_about_an_account_whose_recompute_is_pending(
    gamma, django_capture_on_commit_callbacks
):
    with clock.frozen(NOW):
        _recompute(django_capture_on_commit_callbacks)
        Ticket.objects.filter(account=gamma).delete()
        assert [a.account for a in prioritised_actions(NOW) if a.signal == "velocity"] == ["Gamma"]
        PendingRecompute.objects.create(account=gamma, requested_at=NOW)
        assert [a for a in prioritised_actions(NOW) if a.signal == "velocity"] == []
        PendingRecompute.objects.all().delete()
        _recompute(django_capture_on_commit_callbacks)  # measured again: nothing to keep
        assert not MeasureFinding.objects.filter(account=gamma).exists()
        assert [a for a in prioritised_actions(NOW) if a.signal == "velocity"] == []


def test_it_asks_the_measures_about_an_account_no_recompute_measured(gamma):
    with clock.frozen(NOW):
        assert not MeasuredAccount.objects.exists()
        assert [a.account for a in prioritised_actions(NOW) if a.signal == "velocity"] == ["Gamma"]


def test_it_drops_a_disabled_measures_findings_at_once(gamma, django_capture_on_commit_callbacks):
    from scorecards.models import MeasureConfig

    with clock.frozen(NOW):
        _recompute(django_capture_on_commit_callbacks)
        assert [a.account for a in prioritised_actions(NOW) if a.signal == "velocity"] == ["Gamma"]
        MeasureConfig.objects.filter(code=findings.VELOCITY).update(enabled=False)
        assert [a for a in prioritised_actions(NOW) if a.signal == "velocity"] == []


def test_it_writes_nothing_when_a_recompute_finds_the_same(
    gamma, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with clock.frozen(NOW):
        _recompute(django_capture_on_commit_callbacks)
        before = list(MeasureFinding.objects.values_list("pk", "measure", "sentence"))
        assert before and MeasuredAccount.objects.filter(account=gamma).exists()
        with CaptureQueriesContext(connection) as captured:
            _recompute(django_capture_on_commit_callbacks)
        written = [
            q["sql"]
            for q in captured.captured_queries
            if "insights_measure" in q["sql"] and not q["sql"].lstrip().startswith("SELECT")
        ]
        assert written == []
        assert list(MeasureFinding.objects.values_list("pk", "measure", "sentence")) == before
