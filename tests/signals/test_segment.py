"""Segment webhook destination: signature, rollup into daily usage, de-duplication."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from django.test import override_settings

from accounts.models import DailyFeatureUsage, DailyUsage
from csrisk import clock
from signals import selectors, services
from signals.models import ActiveUserDay, IngestRejection, ProductUser, SeenMessage, Signal
from tests.conftest import api
from tests.factories import AccountFactory
from tests.signals.helpers import dumps

SECRET = "segment-shared-secret"
URL = "/api/v1/webhooks/segment/"
NOW = dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)
DAY = dt.date(2026, 10, 8)


def track(n: int, user: str, event: str = "Report Exported", **extra: Any) -> dict[str, Any]:
    """A track call as Segment's spec documents it (segment.com/docs/connections/spec)."""
    return {
        "type": "track",
        "event": event,
        "userId": user,
        "messageId": f"ajs-{n}",
        "timestamp": "2026-10-08T09:30:00.123Z",
        "properties": {"format": "csv"},
        "context": {"ip": "8.8.8.8", "library": {"name": "analytics.js", "version": "2.11.1"}},
        **extra,
    }


def identify(n: int, user: str) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user,
        "messageId": f"ajs-{n}",
        "timestamp": "2026-10-08T10:00:00.000Z",
        "traits": {"email": f"{user}@customer.example", "name": user},
    }


def group(n: int, user: str, group_id: str) -> dict[str, Any]:
    return {
        "type": "group",
        "userId": user,
        "groupId": group_id,
        "messageId": f"ajs-{n}",
        "timestamp": "2026-10-08T08:00:00.000Z",
        "traits": {"name": "Acme", "plan": "enterprise"},
    }


def send(client, payload: Any, *, secret: str = SECRET, raw: bytes | None = None, sign=True):
    body = raw if raw is not None else dumps(payload)
    headers = {}
    if sign:
        headers["HTTP_X_SIGNATURE"] = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    return client.post(URL, data=body, content_type="application/json", **headers)


@pytest.fixture(autouse=True)
def segment_settings():
    with (
        override_settings(
            SEGMENT_WEBHOOK_SECRET=SECRET,
            CSRISK_USAGE_KEY_FEATURES=["Report Exported", "Dashboard Shared"],
        ),
        clock.frozen(NOW),
    ):
        yield


@pytest.fixture
def anonymous(db):
    return api()


@pytest.fixture
def acme(org):
    return AccountFactory(owner=org.csm_a, crm_id="ACME-001")


def test_it_checks_the_signature_good_bad_missing(anonymous, acme):
    payload = [group(1, "u1", "ACME-001"), track(2, "u1")]
    bad = send(anonymous, payload, secret="wrong")
    missing = send(anonymous, payload, sign=False)
    good = send(anonymous, payload)
    assert (bad.status_code, bad.json()["detail"]) == (
        401, "Invalid Segment signature (X-Signature).",
    )  # fmt: skip
    assert (missing.status_code, missing.json()["detail"]) == (401, "Missing X-Signature.")
    assert good.status_code == 202, good.json()
    assert good.json()["accepted"] == 2


def test_it_refuses_a_call_older_than_the_dedupe_window_as_stale(anonymous, acme):
    old = track(9, "u1", context={"groupId": "ACME-001"}, timestamp="2026-09-01T09:00:00.000Z")
    response = send(anonymous, [old])
    assert response.status_code == 400
    assert (
        "older than the 7-day de-duplication window" in response.json()["rejections"][0]["reason"]
    )
    assert not DailyUsage.objects.exists()


def test_it_rolls_a_batch_up_into_daily_usage_per_account(anonymous, acme):
    batch = [
        group(1, "u1", "ACME-001"),
        group(2, "u2", "ACME-001"),
        track(3, "u1"),
        track(4, "u1"),
        track(5, "u2", "Dashboard Shared"),
        track(6, "u2", "Page Scrolled"),  # not a key feature: an event, no feature count
        identify(7, "u3"),  # u3 has no group yet: rejected with the reason
        track(8, "u4", context={"groupId": "ACME-001"}),  # the call names its group
        {"type": "page", "userId": "u1", "messageId": "ajs-9", "timestamp": "2026-10-08T09:00:00Z"},
    ]
    response = send(anonymous, batch)
    body = response.json()
    assert response.status_code == 202, body
    assert (body["accepted"], body["rejected"], body["ignored"], body["parked"]) == (7, 1, 1, 0)
    assert "no group known for user 'u3'" in body["rejections"][0]["reason"]
    usage = DailyUsage.objects.get()
    assert (usage.account, usage.day, usage.active_users, usage.events) == (acme, DAY, 3, 5)
    assert selectors.daily_usage(acme.pk)[DAY]["features"] == {
        "Report Exported": 3,
        "Dashboard Shared": 1,
    }
    # Never a row per call: one day row, one row per (feature), one per active user.
    assert DailyFeatureUsage.objects.count() == 2
    assert ActiveUserDay.objects.count() == 3
    assert not Signal.objects.exists()


def test_a_replay_counts_nothing_twice(anonymous, acme):
    batch = [group(1, "u1", "ACME-001"), track(2, "u1"), track(3, "u1")]
    send(anonymous, batch)
    again = send(anonymous, batch)
    partly = send(anonymous, [track(3, "u1"), track(4, "u1")])
    assert again.status_code == 202
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 3)
    assert (partly.json()["accepted"], partly.json()["duplicates"]) == (1, 1)
    usage = DailyUsage.objects.get()
    assert (usage.active_users, usage.events) == (1, 3)
    assert DailyFeatureUsage.objects.get().events == 3


def test_an_unknown_group_is_parked_and_released_when_an_account_has_it(anonymous, org):
    response = send(anonymous, [group(1, "u1", "NEW-9"), track(2, "u1")])
    assert response.json()["parked"] == 1
    parked = DailyUsage.objects.get()
    assert (parked.org_ref, parked.account) == ("NEW-9", None)
    account = AccountFactory(owner=org.csm_a, crm_id="NEW-9")
    services.rematch_unmatched(account)
    assert DailyUsage.objects.get().account == account


def test_a_later_group_call_moves_the_user(anonymous, org, acme):
    other = AccountFactory(owner=org.csm_a, crm_id="OTHER-2")
    send(anonymous, [group(1, "u1", "ACME-001")])
    send(anonymous, [{**group(2, "u1", "OTHER-2"), "timestamp": "2026-10-08T09:00:00.000Z"}])
    send(anonymous, [track(3, "u1")])
    assert ProductUser.objects.get().org_ref == "OTHER-2"
    assert DailyUsage.objects.get().account == other


def test_malformed_json_and_bad_calls_are_400s_with_a_reason(anonymous, acme):
    broken = send(anonymous, None, raw=b'{"type": "track",')
    wrong = send(anonymous, "hello")
    unknown = send(
        anonymous, {"type": "purchase", "messageId": "m1", "timestamp": "2026-10-08T09:00:00Z"}
    )
    no_id = send(anonymous, {"type": "track", "userId": "u1", "timestamp": "2026-10-08T09:00:00Z"})
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    assert wrong.status_code == 400
    assert "JSON object (one call) or an array" in wrong.json()["detail"]
    assert unknown.status_code == 400
    assert "unknown Segment call type 'purchase'" in unknown.json()["rejections"][0]["reason"]
    assert no_id.json()["rejections"][0]["reason"] == "messageId is required"
    assert IngestRejection.objects.filter(source="segment").exists()


def test_the_sweeper_forgets_ids_older_than_the_window(anonymous, acme):
    send(anonymous, [group(1, "u1", "ACME-001"), track(2, "u1")])
    assert SeenMessage.objects.count() == 2
    with clock.frozen(NOW + dt.timedelta(days=8)):
        services.signals_sweep()
        # The forgotten call is too old to be counted again.
        again = send(anonymous, [track(2, "u1")])
    assert SeenMessage.objects.count() == 0
    # A user-day stays while its week may still take calls (its week's distinct users).
    assert ActiveUserDay.objects.count() == 1
    with clock.frozen(NOW + dt.timedelta(days=14)):
        services.signals_sweep()
    assert ActiveUserDay.objects.count() == 0
    assert again.status_code == 400
    assert DailyUsage.objects.get().events == 1


def test_without_a_secret_only_an_integration_token_may_send(org, db):
    with override_settings(SEGMENT_WEBHOOK_SECRET=""):
        anonymous = send(api(), [track(1, "u1")], sign=False)
        person = send(api(org.csm_a), [track(1, "u1")], sign=False)
        integration = send(api(org.integration, token=True), [group(1, "u1", "X")], sign=False)
    assert anonymous.status_code == 401
    assert person.status_code == 403
    assert integration.status_code == 202


def test_a_token_bound_to_another_source_may_not_send_usage(org, db):
    from rest_framework.test import APIClient

    from csrisk import tokens

    key = tokens.token_create(user=org.integration, by=None, sources=["zendesk"])[1]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    with override_settings(SEGMENT_WEBHOOK_SECRET=""):
        response = send(client, [group(1, "u1", "ACME-001")], sign=False)
    assert response.status_code == 403
    assert "not source 'segment'" in response.json()["detail"]
    assert not ProductUser.objects.exists()


def test_an_impossible_time_is_rejected_not_a_500(anonymous, acme):
    response = send(
        anonymous, [{**group(1, "u1", "ACME-001"), "timestamp": "2026-10-08T99:00:00.000Z"}]
    )
    assert response.status_code == 400
    assert "not an ISO 8601 time" in response.json()["rejections"][0]["reason"]
