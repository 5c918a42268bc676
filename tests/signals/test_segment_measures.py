"""Segment's daily rollup is a source of the weekly usage facts the habits measures read:
calls for an account move its measures exactly as the equivalent REST usage signals do."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings

from accounts.models import UsageSnapshot
from csrisk import clock
from scorecards import selectors as scorecard_selectors
from scorecards.models import AreaScore
from scorecards.services import recompute
from signals import services
from tests.conftest import api
from tests.factories import AccountFactory
from tests.signals.test_segment import SECRET, send

NOW = dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)
FEATURES = ["Report Exported", "Dashboard Shared"]


@pytest.fixture(autouse=True)
def segment_settings():
    with override_settings(SEGMENT_WEBHOOK_SECRET=SECRET, CSRISK_USAGE_KEY_FEATURES=FEATURES):
        yield


@pytest.fixture
def anonymous(db):
    return api()


def stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


MONDAY = NOW.date() - dt.timedelta(days=NOW.weekday())
LAST_SUNDAY = dt.datetime.combine(MONDAY - dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)


# Twelve ended weeks: 10 users using both key features in the nine earlier weeks, 4 users
# using one of them in the last three (a 60% fall in active users, adoption 100% → 50%).
def history() -> list[tuple[dt.datetime, int, list[str]]]:
    out = []
    for k in range(1, 13):
        day = dt.datetime.combine(MONDAY - dt.timedelta(weeks=k), dt.time(9), tzinfo=dt.UTC)
        out.append((day, 4, FEATURES[:1]) if k < 4 else (day, 10, FEATURES))
    return out


def segment_week(
    anonymous: Any,
    org_ref: str,
    day: dt.datetime,
    users: int,
    features: list[str],
    sent: dt.datetime | None = None,
):
    """One week's calls, sent the day after ``day`` (or at ``sent``): each user tracking
    the key features on ``day`` and identified again on another day of the same week (one
    user, two days: still one active user of the week)."""
    other = day + dt.timedelta(days=1 if day.weekday() < 6 else -1)
    calls: list[dict[str, Any]] = []
    for u in range(users):
        user = f"{org_ref}-u{u}"
        calls.append({"type": "group", "userId": user, "groupId": org_ref, "timestamp": stamp(day)})
        calls.append({"type": "identify", "userId": user, "timestamp": stamp(other)})
        for feature in features:
            calls.append(
                {"type": "track", "userId": user, "event": feature, "timestamp": stamp(day)}
            )
    for n, call in enumerate(calls):
        call["messageId"] = f"{org_ref}-{day:%Y%m%d}-{n}"
    with clock.frozen(sent or day + dt.timedelta(days=1, hours=2)):
        response = send(anonymous, calls)
    assert response.status_code == 202, response.json()
    assert response.json()["rejected"] == 0


def week_ends(day: dt.datetime) -> None:
    """The sweeper's run after the week of ``day`` ended: it writes the week."""
    monday = day.date() - dt.timedelta(days=day.weekday())
    with clock.frozen(dt.datetime.combine(monday, dt.time(0, 1), tzinfo=dt.UTC) + WEEK):
        services.signals_sweep()


WEEK = dt.timedelta(weeks=1)


def rest_week(client: Any, crm_id: str, day: dt.datetime, users: int, features: list[str]):
    signal = {
        "source": "product",
        "external_id": f"{crm_id}-{day:%Y%m%d}",
        "kind": "usage",
        "account": {"external_id": crm_id},
        "occurred_at": stamp(day),
        "attributes": {
            "active_users": users,
            "licensed_users": 0,
            "adoption": len(features) / len(FEATURES),
        },
    }
    with clock.frozen(day + dt.timedelta(days=1, hours=2)):
        response = client.post("/api/v1/signals/", signal, format="json")
    assert response.status_code in (201, 202), response.json()


def habits(account_id: int) -> tuple[str, int, list[str]]:
    area = AreaScore.objects.get(account_id=account_id, area="habits")
    return area.color, area.score, [str(r) for r in area.reasons]


def test_segment_calls_move_the_usage_measures_as_rest_usage_signals_do(anonymous, client, org):
    by_segment = AccountFactory(owner=org.csm_a, crm_id="SEG-1")
    by_rest = AccountFactory(owner=org.csm_a, crm_id="REST-1")
    for day, users, features in reversed(history()):
        segment_week(anonymous, "SEG-1", day, users, features)
        rest_week(client, "REST-1", day, users, features)
        week_ends(day)

    weeks = lambda a: list(  # noqa: E731
        UsageSnapshot.objects.filter(account=a)
        .order_by("week")
        .values_list("week", "active_users", "licensed_users", "adoption")
    )
    assert weeks(by_segment) == weeks(by_rest)
    assert len(weeks(by_segment)) == 12

    ids = [by_segment.pk, by_rest.pk]
    stats = scorecard_selectors.usage_stats(ids, NOW, scorecard_selectors.thresholds())
    assert stats.loc[by_segment.pk].to_dict() == stats.loc[by_rest.pk].to_dict()
    assert (stats.loc[by_segment.pk, "u_recent"], stats.loc[by_segment.pk, "u_base"]) == (4, 10)
    assert (stats.loc[by_segment.pk, "a_recent"], stats.loc[by_segment.pk, "a_base"]) == (0.5, 1)
    with clock.frozen(NOW):
        recompute(ids)
    color, score, reasons = habits(by_segment.pk)
    assert (color, score, reasons) == habits(by_rest.pk)
    assert color == "red"
    assert any("Avg 4 active users over the last 4 weeks vs 10" in r for r in reasons)


def test_a_week_in_progress_is_not_written_and_a_late_call_rewrites_its_week(
    anonymous, client, org
):
    account = AccountFactory(owner=org.csm_a, crm_id="LIVE-1")
    today = dt.datetime.combine(MONDAY, dt.time(9), tzinfo=dt.UTC)
    segment_week(anonymous, "LIVE-1", today, 3, FEATURES, sent=NOW)
    assert not UsageSnapshot.objects.filter(account=account).exists()  # Monday's 3 users
    # A call for last week (within the de-duplication window) rewrites that ended week.
    segment_week(anonymous, "LIVE-1", LAST_SUNDAY, 2, FEATURES[:1], sent=NOW)
    week = UsageSnapshot.objects.get(account=account)
    assert (week.week, week.active_users, week.adoption) == (MONDAY - WEEK, 2, 0.5)


def test_a_later_segment_figure_keeps_the_licences_rest_set(anonymous, client, org):
    account = AccountFactory(owner=org.csm_a, crm_id="MIX-1")
    rest_week(client, "MIX-1", LAST_SUNDAY, 30, FEATURES)
    UsageSnapshot.objects.filter(account=account).update(licensed_users=50)
    segment_week(anonymous, "MIX-1", LAST_SUNDAY, 3, FEATURES[:1], sent=NOW)
    week = UsageSnapshot.objects.get(account=account)
    # The latest writer of the week sets active users and adoption; licences stay.
    assert (week.active_users, week.licensed_users, week.adoption) == (3, 50, 0.5)


def test_parked_usage_becomes_weekly_facts_when_an_account_gains_the_id(anonymous, org):
    segment_week(anonymous, "LATER-7", LAST_SUNDAY, 6, FEATURES, sent=NOW)
    assert not UsageSnapshot.objects.exists()
    account = AccountFactory(owner=org.csm_a, crm_id="LATER-7")
    services.rematch_unmatched(account)
    week = UsageSnapshot.objects.get(account=account)
    assert (week.week, week.active_users, week.adoption) == (MONDAY - WEEK, 6, 1.0)


def test_the_sweeper_writes_an_ended_week_once(anonymous, org):
    from signals.services.usage import usage_weeks_close

    accounts = [AccountFactory(owner=org.csm_a, crm_id=f"W-{i}") for i in range(3)]
    day = dt.datetime.combine(MONDAY, dt.time(9), tzinfo=dt.UTC)
    for i, account in enumerate(accounts):
        segment_week(anonymous, account.crm_id, day, i + 1, FEATURES, sent=NOW)
    assert not UsageSnapshot.objects.exists()  # the week is in progress
    with clock.frozen(NOW + WEEK):
        assert usage_weeks_close() == 3
        assert usage_weeks_close() == 0  # once per week
    assert sorted(UsageSnapshot.objects.values_list("active_users", flat=True)) == [1, 2, 3]
