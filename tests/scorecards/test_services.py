"""Recompute, precedence (measures < CTAs < override), overrides that stick, history, coalescing."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Contact, Ticket
from csrisk import clock
from csrisk.models import AuditEntry, Notification
from scorecards import selectors, services
from scorecards.models import AreaScore, ColorChange, PendingRecompute, Scorecard
from scorecards.services import pending
from tests.factories import ContactFactory

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def healthy(account_a):
    """account_a with an Executive Decision Maker and nothing else wrong: all green."""
    ContactFactory(account=account_a, roles=["edm"], title="CEO")
    return account_a


def add_velocity(account, recent: int = 28, before: int = 10) -> None:
    for i in range(recent):
        Ticket.objects.create(account=account, opened_at=NOW - dt.timedelta(days=5 + i))
    for i in range(before):
        Ticket.objects.create(account=account, opened_at=NOW - dt.timedelta(days=100 + i))


def colors(account) -> dict[str, str]:
    return dict(AreaScore.objects.filter(account=account).values_list("area", "color"))


def test_it_computes_eight_areas_and_a_green_overall(healthy):
    services.recompute([healthy.pk])
    assert colors(healthy) == {
        a: "green"
        for a in (
            "habits",
            "sentiment",
            "company",
            "support",
            "implementation",
            "readiness",
            "product",
            "defect",
        )
    }
    card = Scorecard.objects.get(account=healthy)
    # No usage, NPS/CSAT answers or readiness assessment on record: those areas are no data.
    assert (card.color, card.reason) == (
        "green",
        "All areas with data are green (no data: Habits, Sentiment, Readiness).",
    )
    gaps = AreaScore.objects.filter(account=healthy, no_data=True).values_list("area", flat=True)
    assert set(gaps) == {"habits", "sentiment", "readiness"}


def test_it_stores_a_missing_decision_maker_as_no_data_not_yellow(account_a):
    services.recompute([account_a.pk])
    company = AreaScore.objects.get(account=account_a, area="company")
    assert (company.color, company.score, company.no_data) == ("green", 100, False)
    gap = next(r for r in company.reasons if r["measure"] == "company.no_edm")
    assert (gap["no_data"], gap["sentence"]) == (
        True,
        "No contacts on record: add the decision maker",
    )
    card = Scorecard.objects.get(account=account_a)
    assert (card.color, card.no_data) == ("green", False)


def test_it_leaves_no_data_areas_out_of_the_weighted_score(healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    card = Scorecard.objects.get(account=healthy)
    scores = dict(
        AreaScore.objects.filter(account=healthy, no_data=False).values_list("area", "score")
    )
    assert "habits" not in scores and scores["support"] < 40
    weights = {a.code: a.weight for a in selectors.area_infos()}
    mean = sum(s * weights[a] for a, s in scores.items()) / sum(weights[a] for a in scores)
    assert card.weighted_score == round(mean)


def test_it_names_the_worst_area_in_the_overall_reason(healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    card = Scorecard.objects.get(account=healthy)
    assert card.color == "red"
    assert card.worst_area == "support"
    assert card.reason.startswith("Support is red: 28 non-critical tickets")
    # one red area is never averaged away: the weighted score stays high for ranking (over
    # the areas with data: habits, sentiment and readiness have none)
    assert card.weighted_score > 70
    assert card.score <= 39


def test_it_keeps_reasons_with_measure_value_threshold_and_links(healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    support = AreaScore.objects.get(account=healthy, area="support")
    top = support.reasons[0]
    assert top["measure"] == "support.noncritical_velocity"
    assert top["value"] == 1.8
    assert top["threshold"] == "yellow ≥ 0.5, red ≥ 1"
    # the five latest of the tickets counted (looked up only for the reasons stored)
    five = Ticket.objects.filter(account=healthy).order_by("-opened_at", "-id")[:5]
    assert top["refs"] == [{"type": "ticket", "id": t.pk} for t in five]


def test_the_velocity_links_follow_the_tickets_when_the_counts_stay(healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    # the latest ticket gone and a new one in its place: 28 vs 10 as before
    Ticket.objects.filter(account=healthy).order_by("-opened_at").first().delete()
    newer = Ticket.objects.create(account=healthy, opened_at=NOW - dt.timedelta(days=1))
    with clock.frozen(NOW + dt.timedelta(minutes=1)):
        services.recompute([healthy.pk])
    top = AreaScore.objects.get(account=healthy, area="support").reasons[0]
    assert top["sentence"].startswith("28 non-critical tickets in the last 90 days vs 10 before")
    assert top["refs"][0] == {"type": "ticket", "id": newer.pk}
    five = Ticket.objects.filter(account=healthy).order_by("-opened_at", "-id")[:5]
    assert top["refs"] == [{"type": "ticket", "id": t.pk} for t in five]


def test_an_open_risk_cta_makes_an_area_at_least_yellow_and_a_flag_red(healthy):
    services.recompute([healthy.pk])
    services.cta_pressure_set(
        account_id=healthy.pk,
        area="habits",
        color="yellow",
        reasons=[{"id": 5, "sentence": "Risk CTA: usage review"}],
    )
    habits = AreaScore.objects.get(account=healthy, area="habits")
    assert (habits.color, habits.computed_color) == ("yellow", "green")
    assert habits.reasons[0]["kind"] == "cta"
    assert habits.reasons[0]["refs"] == [{"type": "cta", "id": 5}]
    assert 40 <= habits.score <= 69
    services.cta_pressure_set(
        account_id=healthy.pk,
        area="habits",
        color="red",
        reasons=[{"id": 5, "sentence": "Flagged: usage review"}],
    )
    assert colors(healthy)["habits"] == "red"
    assert Scorecard.objects.get(account=healthy).color == "red"
    services.cta_pressure_set(account_id=healthy.pk, area="habits", color=None)
    assert colors(healthy)["habits"] == "green"  # the measures speak again
    assert Scorecard.objects.get(account=healthy).color == "green"


def test_a_cta_never_lowers_a_colour_the_measures_set(healthy):
    add_velocity(healthy)
    services.cta_pressure_set(
        account_id=healthy.pk,
        area="support",
        color="yellow",
        reasons=[{"id": 9, "sentence": "Open risk CTA"}],
    )
    support = AreaScore.objects.get(account=healthy, area="support")
    assert support.color == "red"
    assert support.reasons[0]["kind"] == "measure"


def test_it_refuses_a_bad_cta_pressure(healthy):
    with pytest.raises(ValidationError):
        services.cta_pressure_set(account_id=healthy.pk, area="vibes", color="red")
    with pytest.raises(ValidationError):
        services.cta_pressure_set(account_id=healthy.pk, area="habits", color="green")


def test_an_override_sticks_through_recomputes_and_is_audited(org, healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    services.override_set(
        account=healthy,
        area="support",
        color="yellow",
        reason="Tickets are a migration artefact",
        by=org.lead_a,
        expires_at=NOW + dt.timedelta(days=14),
    )
    for _ in range(2):
        services.recompute([healthy.pk])
        support = AreaScore.objects.get(account=healthy, area="support")
        assert (support.color, support.computed_color) == ("yellow", "red")
    assert support.reasons[0]["sentence"].startswith("Set to yellow by lead_a until 2026-11-15")
    entry = AuditEntry.objects.get(action="scorecard.override_set")
    assert (entry.actor, entry.changes["color"], entry.reason) == (
        org.lead_a,
        ["red", "yellow"],
        "Tickets are a migration artefact",
    )


def test_an_expired_override_gives_back_the_computed_colour_and_tells_the_owner(org, healthy):
    add_velocity(healthy)
    services.recompute([healthy.pk])
    services.override_set(
        account=healthy,
        area="support",
        color="green",
        reason="Known issue",
        by=org.lead_a,
        expires_at=NOW + dt.timedelta(days=3),
    )
    assert services.expire_overrides() == 0
    with clock.frozen(NOW + dt.timedelta(days=3, minutes=1)):
        assert services.expire_overrides() == 1
        assert services.expire_overrides() == 0  # idempotent
    assert colors(healthy)["support"] == "red"
    told = set(
        Notification.objects.filter(kind="override_expired").values_list(
            "user__username", flat=True
        )
    )
    assert told == {"csm_a", "lead_a"}
    assert AuditEntry.objects.filter(action="scorecard.override_expired").count() == 1
    change = ColorChange.objects.filter(area="support").first()
    assert (change.from_color, change.to_color, change.cause) == ("green", "red", "expiry")


@pytest.mark.parametrize("who", ["csm_a2", "lead_b", "support", "executive"])
def test_only_the_right_people_may_override(org, healthy, who):
    with pytest.raises(PermissionDenied):
        services.override_set(
            account=healthy,
            area="habits",
            color="red",
            reason="x",
            by=getattr(org, who),
            expires_at=NOW + dt.timedelta(days=1),
        )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reason": "  "}, "reason"),
        ({"expires_at": NOW}, "expires_at"),
        ({"expires_at": NOW + dt.timedelta(days=91)}, "expires_at"),
        ({"color": "blue"}, "color"),
    ],
)
def test_it_refuses_a_bad_override(org, healthy, kwargs, field):
    args = {
        "account": healthy,
        "area": "habits",
        "color": "red",
        "reason": "why",
        "by": org.vp,
        "expires_at": NOW + dt.timedelta(days=1),
        **kwargs,
    }
    with pytest.raises(ValidationError) as exc:
        services.override_set(**args)
    assert field in exc.value.message_dict


def test_clearing_an_override_lets_the_measures_speak(org, healthy):
    services.recompute([healthy.pk])
    override = services.override_set(
        account=healthy,
        area="habits",
        color="red",
        reason="Gut feeling",
        by=org.csm_a,
        expires_at=NOW + dt.timedelta(days=1),
    )
    assert colors(healthy)["habits"] == "red"
    services.override_clear(override=override, by=org.csm_a, reason="Resolved")
    assert colors(healthy)["habits"] == "green"
    with pytest.raises(ValidationError):
        services.override_clear(override=override, by=org.csm_a)


def test_it_stores_each_colour_change_and_reads_the_trend(healthy):
    with clock.frozen(NOW - dt.timedelta(days=40)):
        services.recompute([healthy.pk])
    add_velocity(healthy)
    services.recompute([healthy.pk])
    changes = list(ColorChange.objects.filter(account=healthy, area="support").order_by("at"))
    assert [(c.from_color, c.to_color) for c in changes] == [("", "green"), ("green", "red")]
    current = {(healthy.pk, "support"): "red", (healthy.pk, "habits"): "green"}
    trend = selectors.trends([healthy.pk], current, NOW)
    assert trend[(healthy.pk, "support")].week == "worse"
    assert trend[(healthy.pk, "support")].month == "worse"
    assert trend[(healthy.pk, "habits")].week == "same"


def test_trend_reads_the_colour_as_it_stood_7_and_30_days_ago(healthy):
    def change(days: int, old: str, new: str) -> None:
        ColorChange.objects.create(
            account=healthy,
            area="habits",
            from_color=old,
            to_color=new,
            score=50,
            at=NOW - dt.timedelta(days=days),
            cause="measures",
        )

    change(40, "", "green")
    change(10, "green", "red")
    change(2, "red", "green")
    trend = selectors.trends([healthy.pk], {(healthy.pk, "habits"): "green"}, NOW)
    # 7 days ago it was red (better now); 30 days ago green (same)
    assert trend[(healthy.pk, "habits")] == selectors.Trend(week="better", month="same")
    # with no colour yet 30 days ago, the month compares nothing: "same"
    trend = selectors.trends([healthy.pk], {(healthy.pk, "sentiment"): "red"}, NOW)
    assert trend[(healthy.pk, "sentiment")] == selectors.Trend(week="same", month="same")


def test_it_recomputes_a_burst_of_requests_once_per_account(
    org, account_a, account_b, django_capture_on_commit_callbacks
):
    with mock.patch("scorecards.services.pending.recompute", wraps=services.recompute) as spy:
        with django_capture_on_commit_callbacks(execute=False):
            for _ in range(50):  # 100 requests for 2 accounts
                services.request_recompute([account_a.pk, account_b.pk])
        assert PendingRecompute.objects.count() == 2
        done, more = services.recompute_pending()
    assert (done, more) == (2, False)
    assert spy.call_count == 1
    assert sorted(spy.call_args.args[0]) == sorted([account_a.pk, account_b.pk])
    assert not PendingRecompute.objects.exists()


def test_it_schedules_one_task_per_window_when_a_worker_runs(org, account_a, settings):
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
        for _ in range(20):
            pending._schedule_pending()
    assert queued.call_count == 1
    assert queued.call_args.kwargs["countdown"] == services.RECOMPUTE_WINDOW_SECONDS


def test_it_emits_one_event_per_colour_change(healthy, django_capture_on_commit_callbacks):
    from csrisk import events

    services.recompute([healthy.pk])
    add_velocity(healthy)
    received = []

    def handler(sender, **payload):
        received.append((payload["area"], payload["old"], payload["new"]))

    events.color_changed.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.recompute([healthy.pk])
            services.recompute([healthy.pk])  # nothing new: no event
    finally:
        events.color_changed.disconnect(handler)
    assert sorted(received) == [("overall", "green", "red"), ("support", "green", "red")]


def test_the_command_recomputes_all_or_one(org, healthy, account_b, capsys):
    call_command("recompute_scorecards")
    assert "Recomputed 2 account(s)" in capsys.readouterr().out
    call_command("recompute_scorecards", "--account", str(healthy.pk))
    assert "Recomputed 1 account(s)" in capsys.readouterr().out


def test_a_contact_leaving_turns_company_red(healthy):
    services.recompute([healthy.pk])
    Contact.objects.filter(account=healthy).update(at_company=False, left_on=NOW.date())
    services.recompute([healthy.pk])
    assert colors(healthy)["company"] == "red"


def test_it_writes_only_the_areas_whose_state_changed(healthy):
    services.recompute([healthy.pk])
    support = AreaScore.objects.get(account=healthy, area="support")
    assert support.digest
    services.recompute([healthy.pk])  # nothing changed: no row written
    assert AreaScore.objects.get(pk=support.pk).computed_at == support.computed_at
    # one more ticket: still green, but the sentence moves, so the row is rewritten
    Ticket.objects.create(account=healthy, opened_at=NOW - dt.timedelta(days=2))
    with clock.frozen(NOW + dt.timedelta(minutes=1)):
        services.recompute([healthy.pk])
    after = AreaScore.objects.get(pk=support.pk)
    assert after.color == "green" and after.digest != support.digest
    assert any(
        "1 non-critical ticket in the last 90 days vs 0 before" in r["sentence"]
        for r in after.reasons
    )
    assert not ColorChange.objects.filter(account=healthy, area="support").exclude(from_color="")


def test_a_row_without_a_digest_is_rewritten_once(healthy):
    # as rows written before the digests were (both columns empty after their migrations)
    services.recompute([healthy.pk])
    AreaScore.objects.filter(account=healthy).update(digest="")
    Scorecard.objects.filter(account=healthy).update(areas_digest="")
    services.recompute([healthy.pk])
    assert not AreaScore.objects.filter(account=healthy, digest="").exists()
    assert Scorecard.objects.get(account=healthy).areas_digest
    assert ColorChange.objects.filter(account=healthy).exclude(from_color="").count() == 0


def test_areas_are_read_only_for_the_accounts_whose_areas_digest_moved(healthy, account_b):
    services.recompute([healthy.pk, account_b.pk])
    digests = dict(Scorecard.objects.values_list("account_id", "areas_digest"))
    assert len(set(digests.values())) == 2 and all(digests.values())
    with CaptureQueriesContext(connection) as steady:
        services.recompute([healthy.pk, account_b.pk])
    assert not [q for q in steady if "scorecards_areascore" in q["sql"]]
    # a ticket moves one area of one account: only that account's areas are read
    Ticket.objects.create(account=healthy, opened_at=NOW - dt.timedelta(days=2))
    with (
        clock.frozen(NOW + dt.timedelta(minutes=1)),
        CaptureQueriesContext(connection) as moved,
    ):
        services.recompute([healthy.pk, account_b.pk])
    reads = [q["sql"] for q in moved if q["sql"].startswith("SELECT account_id, area, id")]
    assert len(reads) == 1 and str(account_b.pk) not in reads[0].split("WHERE")[1]
    after = dict(Scorecard.objects.values_list("account_id", "areas_digest"))
    assert after[healthy.pk] != digests[healthy.pk]
    assert after[account_b.pk] == digests[account_b.pk]


def test_only_key_contacts_leaving_count(healthy):
    ContactFactory(account=healthy, roles=["admin"], title="IT admin")
    services.recompute([healthy.pk])
    Contact.objects.filter(account=healthy, roles=["admin"]).update(
        at_company=False, left_on=NOW.date()
    )
    services.recompute([healthy.pk])
    assert colors(healthy)["company"] == "green"
    Contact.objects.filter(account=healthy, roles=["edm"]).update(
        at_company=False, left_on=NOW.date()
    )
    services.recompute([healthy.pk])
    assert colors(healthy)["company"] == "red"


def test_a_milestone_completed_after_now_was_still_late_then(healthy):
    from accounts.models import Milestone

    Milestone.objects.create(
        account=healthy,
        name="Data migration",
        due_on=(NOW - dt.timedelta(days=45)).date(),
        completed_on=(NOW + dt.timedelta(days=3)).date(),
    )
    Milestone.objects.create(
        account=healthy,
        name="Kick-off",
        due_on=(NOW - dt.timedelta(days=90)).date(),
        completed_on=(NOW - dt.timedelta(days=80)).date(),
    )
    services.recompute([healthy.pk])
    implementation = AreaScore.objects.get(account=healthy, area="implementation")
    assert implementation.color == "red"
    assert implementation.reasons[0]["sentence"] == (
        "1 milestone late; “Data migration” 45 days overdue"
    )
