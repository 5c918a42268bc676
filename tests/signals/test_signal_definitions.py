"""One definition per signal: every reader of a shared signal agrees with its measure.

Random small books of tickets and random configured thresholds (window, floor, what is
critical): the rules, the executive summary and the segment aggregates must say what the
scorecard measure says, as the scorecard computes it (``selectors.load_frames`` →
``measures.run_measures``), and honour the configuration.
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.choices import Segment
from accounts.models import Account, Ticket
from csrisk import clock
from ctas import services as ctas
from ctas.models import Cta
from insights import aggregates, findings, summary
from scorecards.measures import run_measures
from scorecards.models import MeasureConfig
from scorecards.selectors import load_frames, thresholds
from signals import rules
from signals.choices import RuleTrigger
from signals.models import Signal, SignalRule
from tests import profile
from tests.factories import AccountFactory

# A Monday, midnight: a week end (Sunday) closes just before it, so the segment series'
# last point is as of this very instant.
NOW = dt.datetime(2026, 10, 19, 0, 0, tzinfo=dt.UTC)
VELOCITY = "support.noncritical_velocity"
URGENT = "support.urgent_open"
EDM_LEFT_CODE = "company.key_contact_left"
DOWNGRADE_CODE = "company.title_downgrade"

tickets_st = st.lists(
    st.tuples(
        st.sampled_from(["support", "defect"]),
        st.sampled_from(["urgent", "high", "normal", "low"]),
        # days before NOW it was opened (negative: after NOW, not yet known)
        st.integers(-3, 260),
        st.sampled_from(["open", "solved"]),
    ),
    max_size=30,
)
config_st = st.fixed_dictionaries(
    {
        "window_days": st.sampled_from([30, 60, 90]),
        "floor": st.sampled_from([2, 5, 8, 12]),
        "critical": st.sampled_from([["urgent"], ["urgent", "high"]]),
        # how much evidence a rise needs: thin rows (too few tickets, or a rise chance
        # explains) must be no finding for any reader
        "min_count": st.sampled_from([1, 6, 12]),
        "confidence": st.sampled_from([0.5, 0.9, 0.95]),
    }
)


class Rollback(Exception):
    pass


def configure(config: dict) -> None:
    t = next(t for t in thresholds() if t.code == VELOCITY)
    MeasureConfig.objects.update_or_create(
        code=VELOCITY,
        defaults={
            "area": t.area,
            "label": t.label,
            "yellow_at": t.yellow_at,
            "red_at": t.red_at,
            "best": t.best,
            "window_days": config["window_days"],
            "params": {
                "floor": config["floor"],
                "critical": config["critical"],
                "min_count": config["min_count"],
                "confidence": config["confidence"],
            },
        },
    )


def book(account: Account, tickets: list[tuple]) -> None:
    Ticket.objects.bulk_create(
        Ticket(
            account=account,
            kind=kind,
            priority=priority,
            status="solved" if state == "solved" else "open",
            opened_at=NOW - dt.timedelta(days=days, hours=1),
            solved_at=NOW + dt.timedelta(days=1) if state == "solved" else None,
        )
        for kind, priority, days, state in tickets
    )


def measured(account: Account, code: str, *, thin_too: bool = False) -> float | None:
    """What the scorecard's measure says for the account, as a recompute computes it: its
    value, none when the row is a gap in the data or too thin to judge (``no_data``) —
    unless ``thin_too``, for the raw value a thin row keeps."""
    configured = [t for t in thresholds() if t.code == code]
    rows = run_measures(load_frames([account.pk], NOW, configured), configured)
    row = rows.loc[rows["measure"] == code].iloc[0]
    if math.isnan(row["value"]) or (row["no_data"] and not thin_too):
        return None
    return float(row["value"])


def verdict(account: Account, code: str) -> tuple[str, bool, str]:
    """The colour, no-data flag and sentence of the scorecard's measure ``code``."""
    configured = [t for t in thresholds() if t.code == code]
    rows = run_measures(load_frames([account.pk], NOW, configured), configured)
    row = rows.loc[rows["measure"] == code].iloc[0]
    return row["color"], bool(row["no_data"]), row["sentence"]


@pytest.fixture
def account(org):
    return AccountFactory(owner=org.csm_a, segment=Segment.STRATEGIC)


@settings(
    max_examples=profile.examples(ci=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tickets=tickets_st, config=config_st, threshold=st.sampled_from([0.25, 0.5, 1.0]))
def test_the_velocity_rule_fires_exactly_when_the_measure_reaches_its_threshold(
    account, tickets, config, threshold
):
    try:
        with transaction.atomic():
            configure(config)
            book(account, tickets)
            SignalRule.objects.exclude(trigger=RuleTrigger.VELOCITY).update(active=False)
            SignalRule.objects.filter(trigger=RuleTrigger.VELOCITY).update(
                threshold=threshold, active=True
            )
            signal = Signal(kind="ticket", account_id=account.pk)
            rules.evaluate([signal], people={}, now=NOW)
            value = measured(account, VELOCITY)
            opened = Cta.objects.filter(account=account, area="support").exists()
            assert opened == (value is not None and value >= threshold), (value, opened)
            raise Rollback
    except Rollback:
        pass


@settings(
    max_examples=profile.examples(ci=30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tickets=tickets_st, threshold=st.sampled_from([1, 2, 3]))
def test_the_urgent_ticket_rule_counts_what_the_measure_counts(account, tickets, threshold):
    try:
        with transaction.atomic():
            book(account, tickets)
            SignalRule.objects.update(active=False)
            SignalRule.objects.create(
                name="Urgent tickets",
                trigger=RuleTrigger.URGENT_TICKETS,
                threshold=threshold,
                cta_area="support",
                cta_reason="Urgent tickets open: {value}",
            )
            rules.evaluate([Signal(kind="ticket", account_id=account.pk)], people={}, now=NOW)
            value = measured(account, URGENT)
            opened = Cta.objects.filter(account=account, area="support").exists()
            assert opened == (value is not None and value >= threshold), (value, opened)
            raise Rollback
    except Rollback:
        pass


@settings(
    max_examples=profile.examples(ci=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tickets=tickets_st, config=config_st)
def test_the_summary_reads_the_velocity_the_measure_computes(account, tickets, config):
    try:
        with transaction.atomic():
            configure(config)
            book(account, tickets)
            value = measured(account, VELOCITY)
            actions = [
                a
                for a in summary.prioritised_actions(NOW, limit=50)
                if a.signal == "velocity" and a.account_id == account.pk
            ]
            rising = value is not None and value >= findings.VELOCITY_LEAD
            assert bool(actions) == rising, (value, actions)
            if rising:
                assert f"{value * 100:.0f}%" in actions[0].sentence
            raise Rollback
    except Rollback:
        pass


@settings(
    max_examples=profile.examples(ci=40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(tickets=tickets_st, config=config_st)
def test_a_one_account_segment_has_the_velocity_of_its_account(account, tickets, config):
    try:
        with transaction.atomic():
            configure(config)
            book(account, tickets)
            value = measured(account, VELOCITY, thin_too=True)
            trend = next(
                t
                for t in aggregates.segment_trends(now=NOW, weeks=2)
                if t.segment == Segment.STRATEGIC
            )
            assert trend.velocity_now == pytest.approx(round(value or 0.0, 3)), value
            raise Rollback
    except Rollback:
        pass


# --- "the decision maker left": the measure, the escalation suggestion, the summary ---------

departures_st = st.lists(
    st.tuples(
        st.sampled_from([["edm"], ["champion"], ["user"], ["edm", "champion"]]),
        st.sampled_from(["people_change", "contact"]),  # how the departure is on record
        st.integers(0, 260),  # days before NOW
    ),
    max_size=4,
)


@settings(
    max_examples=profile.examples(ci=30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(departures=departures_st, window=st.sampled_from([90, 180]))
def test_every_reader_of_edm_left_says_what_the_measure_says(org, account, departures, window):
    from accounts.models import Contact, PeopleChange
    from escalation.models import Escalation, Meeting
    from escalation.selectors import agenda
    from escalation.services import suggestions_refresh
    from scorecards.measures import EDM_LEFT

    try:
        with transaction.atomic():
            MeasureConfig.objects.filter(code=EDM_LEFT_CODE).update(window_days=window)
            for i, (roles, how, days) in enumerate(departures):
                when = NOW - dt.timedelta(days=days, hours=2)
                contact = Contact.objects.create(
                    account=account, name=f"Person {i}", title="VP Ops", roles=roles
                )
                if how == "contact":
                    Contact.objects.filter(pk=contact.pk).update(
                        at_company=False, left_on=when.date()
                    )
                else:
                    PeopleChange.objects.create(
                        account=account,
                        contact=contact,
                        change="left",
                        occurred_at=when,
                        roles=roles,
                        source="test",
                        external_id=f"left-{i}",
                    )
            value = measured(account, EDM_LEFT_CODE)
            edm_left = value is not None and value >= EDM_LEFT
            actions = {
                a.signal
                for a in summary.prioritised_actions(NOW, limit=50)
                if a.account_id == account.pk
            }
            assert ("edm_left" in actions) == edm_left, (value, actions)
            with clock.frozen(NOW):
                cta = ctas.cta_create(
                    account=account, by=org.csm_a, reason="Exec gone?", area="company"
                )
                ctas.cta_flag(cta=cta, by=org.csm_a, reason="Need the VP")
                escalation = Escalation.objects.get(cta=cta, status="open")
                suggestions_refresh(escalation)
                # The agenda of the meeting that reviews the flagged company CTA says why
                # in the measure's words exactly when the measure says yellow or red.
                color, no_data, sentence = verdict(account, EDM_LEFT_CODE)
                friday = Meeting.objects.get(slug="friday-cs-customer-issues")
                item = next(i for i in agenda(friday, NOW.date()) if i.cta == cta)
            suggested = set(escalation.suggestions.values_list("rule", flat=True))
            assert ("edm_changed" in suggested) == edm_left, (value, suggested)
            said = sentence in item.signals
            assert said == (color != "green" and not no_data), (color, item.signals)
            raise Rollback
    except Rollback:
        pass


# --- "a key contact was downgraded": the measure, the rule, the summary's blind spot ---------

TITLES = ["CEO", "VP Sales", "Head of Operations", "Director IT", "Team Manager", "Analyst"]
retitles_st = st.lists(
    st.tuples(
        st.sampled_from([["edm"], ["champion"], ["user"]]),
        st.sampled_from(TITLES),  # old title
        st.sampled_from(TITLES),  # new title
        st.integers(0, 260),  # days before NOW
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda change: change[3],
)


@settings(
    max_examples=profile.examples(ci=30),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(changes=retitles_st, window=st.sampled_from([90, 180]), yellow=st.sampled_from([1, 2]))
def test_every_reader_of_title_downgrade_says_what_the_measure_says(
    account, changes, window, yellow
):
    from accounts.models import PeopleChange
    from scorecards.measures import seniority

    try:
        with transaction.atomic():
            MeasureConfig.objects.filter(code=DOWNGRADE_CODE).update(
                window_days=window, yellow_at=yellow, red_at=max(yellow, 2)
            )
            SignalRule.objects.exclude(trigger=RuleTrigger.TITLE_DOWNGRADE).update(active=False)
            recorded = [
                PeopleChange.objects.create(
                    account=account,
                    change="title_changed",
                    occurred_at=NOW - dt.timedelta(days=days, hours=2),
                    roles=roles,
                    old_title=old,
                    new_title=new,
                    source="test",
                    external_id=f"retitle-{days}",
                )
                for roles, old, new, days in changes
            ]
            color, no_data, _ = verdict(account, DOWNGRADE_CODE)
            at_risk = color != "green" and not no_data
            # The summary (before any CTA turns the account yellow): a green account's people
            # blind spot is the measure's verdict.
            spots = {s.signal for s in summary.blind_spots(NOW) if s.account_id == account.pk}
            assert ("people" in spots) == at_risk, (color, spots)
            # The rule, for the latest change: it fires when the measure calls the account
            # at risk and counts this change (a key contact's downgrade in its window).
            roles, old, new, days = min(changes, key=lambda change: change[3])
            latest = recorded[changes.index((roles, old, new, days))]
            counted = (
                bool({"edm", "champion"} & set(roles))
                and seniority(old) > seniority(new)
                and days < window
            )
            signal = Signal(
                kind="org_change",
                account_id=account.pk,
                payload={
                    "attributes": {
                        "change": "title_changed",
                        "contact": {"name": "Pat", "roles": roles},
                    }
                },
            )
            person = rules.Person(None, old, new, latest.pk)
            rules.evaluate([signal], people={signal.pk: person}, now=NOW)
            opened = Cta.objects.filter(account=account, area="company").exists()
            assert opened == (at_risk and counted), (color, counted, opened)
            raise Rollback
    except Rollback:
        pass
