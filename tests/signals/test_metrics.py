"""/metrics counts the signals each source sent: accepted, duplicates and rejected, once
the request's transaction commits (csrisk.metrics; signals.services.health)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import transaction
from django.test import override_settings
from prometheus_client import REGISTRY

from csrisk import clock
from signals import services
from tests.conftest import api
from tests.signals.conftest import committing
from tests.signals.helpers import dumps, ticket, zendesk_event, zendesk_headers

NAME = "csrisk_signals_ingested_total"


def counted(source: str, outcome: str) -> float:
    return REGISTRY.get_sample_value(NAME, {"source": source, "outcome": outcome}) or 0.0


def counts(source: str) -> tuple[float, float, float]:
    return tuple(counted(source, o) for o in ("accepted", "duplicate", "rejected"))


def test_it_counts_accepted_duplicate_and_rejected_signals_per_source(client, account_a):
    before = counts("helpdesk")
    bad = {**ticket("T-3"), "kind": "weather"}
    response = client.post(
        "/api/v1/signals/",
        data=json.dumps([ticket("T-1"), ticket("T-2"), bad, ticket("T-1")]),
        content_type="application/json",
    )
    assert response.status_code == 202
    assert [r["status"] for r in response.json()["results"]] == [
        "accepted", "accepted", "rejected", "duplicate",
    ]  # fmt: skip
    assert counts("helpdesk") == (before[0] + 2, before[1] + 1, before[2] + 1)


def test_it_counts_a_body_refused_whole_as_one_rejection(client, account_a):
    before = counted("api", "rejected")
    response = client.post("/api/v1/signals/", data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert counted("api", "rejected") == before + 1


@override_settings(ZENDESK_WEBHOOK_SECRET="zendesk-secret")
def test_it_counts_a_webhook_refused_for_its_signature(db, django_capture_on_commit_callbacks):
    anonymous = committing(api(), django_capture_on_commit_callbacks)
    before = counted("zendesk", "rejected")
    body = dumps(zendesk_event())
    now = dt.datetime(2026, 10, 8, 11, 0, 5, tzinfo=dt.UTC)
    with clock.frozen(now):
        response = anonymous.post(
            "/api/v1/webhooks/zendesk/",
            data=body,
            content_type="application/json",
            **zendesk_headers("wrong-secret", body, "2026-10-08T11:00:00Z"),
        )
    assert response.status_code == 401
    assert counted("zendesk", "rejected") == before + 1


def test_it_counts_nothing_a_rolled_back_request_stored(
    account_a, django_capture_on_commit_callbacks
):
    before = counts("helpdesk")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.signals_store([ticket("T-9"), {"kind": "bad"}], publish=False)
        raise RuntimeError("the database went away before the commit")
    assert counts("helpdesk") == before


def test_it_counts_segment_calls(db, django_capture_on_commit_callbacks):
    from signals.adapters import segment_calls

    before = counts("segment")
    calls = segment_calls(
        [
            {
                "type": "track",
                "event": "Report Exported",
                "userId": "u1",
                "messageId": "m-1",
                "timestamp": clock.now().isoformat(),
                "context": {"groupId": "ORG-1"},
            },
            {"type": "track", "messageId": "m-2", "timestamp": "not a time", "userId": "u1"},
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        answer = services.usage_record(calls, source="segment")
    assert (answer.accepted, answer.rejected) == (1, 1)
    assert counts("segment") == (before[0] + 1, before[1], before[2] + 1)
