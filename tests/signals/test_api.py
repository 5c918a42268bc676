"""POST /api/v1/signals/: batches, per-item results, idempotency, limits, durability."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.test import override_settings

from accounts.models import Ticket
from csrisk import clock
from scorecards.models import PendingRecompute
from signals import services
from signals.models import IdempotencyRecord, Signal, SignalVersion
from tests.conftest import api
from tests.signals.helpers import ticket

URL = "/api/v1/signals/"


def post(client, payload, **extra):
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **extra)


def test_it_accepts_one_signal_and_turns_it_into_a_ticket(client, account_a):
    response = post(client, ticket(status="solved", solved_at="2026-10-02T10:00:00Z"))
    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1
    assert body["results"][0]["status"] == "accepted"
    signal = Signal.objects.get()
    assert signal.status == "processed"  # in-process worker (no REDIS_URL)
    t = Ticket.objects.get(source="helpdesk", external_id="T-1001")
    assert (t.account, t.status, t.priority, t.tags) == (account_a, "solved", "normal", ["api"])
    assert t.solved_at is not None


def test_it_answers_each_item_and_a_bad_one_never_sinks_the_good(client, account_a):
    items = [
        ticket("T-1"),
        {**ticket("T-2"), "kind": "weather"},
        {**ticket("T-3"), "occurred_at": "yesterday"},
        {**ticket("T-4"), "account": None},
        ticket("T-5", account=999999),
        ticket("T-6", priority="P9"),
        "not an object",
        ticket("T-7", account=account_a.pk),
    ]
    response = post(client, items)
    assert response.status_code == 202
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "accepted", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
        "accepted",
    ]  # fmt: skip
    assert [r["index"] for r in results] == list(range(8))
    assert "unknown kind 'weather'" in results[1]["reason"]
    assert "occurred_at 'yesterday'" in results[2]["reason"]
    assert "account is required" in results[3]["reason"]
    assert "no account with id 999999" in results[4]["reason"]
    assert "unknown priority" in results[5]["reason"]
    assert Ticket.objects.filter(external_id__in=["T-1", "T-7"]).count() == 2


def test_it_stores_a_resend_once_and_keeps_the_history_of_a_new_version(client, account_a):
    first = post(client, ticket(status="open")).json()["results"][0]
    again = post(client, ticket(status="open")).json()["results"][0]
    assert again["status"] == "duplicate"
    assert again["id"] == first["id"]
    solved = post(client, ticket(status="solved")).json()["results"][0]
    assert (solved["status"], solved["version"]) == ("accepted", 2)
    assert Signal.objects.count() == 1
    assert SignalVersion.objects.get().payload["attributes"]["status"] == "open"
    assert Ticket.objects.get().status == "solved"


def test_it_refuses_an_older_version_arriving_late(client, account_a):
    post(client, {**ticket(status="solved"), "updated_at": "2026-10-03T00:00:00Z"})
    late = post(client, {**ticket(status="open"), "updated_at": "2026-10-02T00:00:00Z"})
    assert late.json()["results"][0]["status"] == "duplicate"
    assert Ticket.objects.get().status == "solved"


def test_it_replays_an_idempotency_key_and_refuses_it_with_another_body(client, account_a):
    first = post(client, [ticket("T-1")], HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, [ticket("T-1")], HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 202
    assert again.json() == first.json()  # the same answer, not "duplicate"
    assert again["Idempotent-Replayed"] == "true"
    other = post(client, [ticket("T-2")], HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert Signal.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_it_parks_an_unknown_organisation_and_matches_it_when_the_account_gets_the_id(
    client, account_b, django_capture_on_commit_callbacks
):
    body = post(client, ticket(account="NEWCO-9")).json()
    assert body["results"][0] == {**body["results"][0], "status": "accepted", "unmatched": True}
    signal = Signal.objects.get()
    assert (signal.status, signal.org_ref) == ("unmatched", "NEWCO-9")
    assert not Ticket.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        account_b.helpdesk_org_id = "NEWCO-9"
        account_b.save()
    signal.refresh_from_db()
    assert (signal.status, signal.account_id) == ("processed", account_b.pk)
    assert Ticket.objects.get().account == account_b


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "Malformed JSON"),
        (b"", "empty"),
        (b"42", "JSON object"),
        (b"[]", "No signals"),
    ],
)
def test_it_answers_malformed_bodies_with_400(client, body, needle):
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert needle in response.json()["detail"]


def test_it_answers_one_rejected_signal_with_400_and_the_reason(client, account_a):
    response = post(client, {**ticket(), "occurred_at": "2026-10-01T09:30:00"})
    assert response.status_code == 400
    assert "no time zone" in response.json()["detail"]


def test_it_refuses_more_than_5000_signals_and_oversized_bodies(client, account_a):
    assert post(client, [ticket(f"T-{i}") for i in range(5001)]).status_code == 413
    with override_settings(CSRISK_SIGNALS_MAX_BODY_BYTES=100):
        assert post(client, ticket()).status_code == 413
    assert not Signal.objects.exists()


def test_it_needs_credentials_and_lets_integration_tokens_do_nothing_else(org, client):
    assert post(api(), ticket()).status_code == 401
    assert client.get("/api/v1/accounts/").status_code == 403
    # GET on the same address reads the feed, which is for people (test_feed_api.py).
    assert client.get(URL).status_code == 403


def test_it_rate_limits_per_token(client, account_a):
    with override_settings(CSRISK_SIGNALS_RATE="2/minute"):
        codes = [post(client, ticket(f"T-{i}")).status_code for i in range(3)]
    assert codes == [202, 202, 429]


def test_it_accepts_while_the_broker_is_down_and_the_sweeper_processes_later(client, account_a):
    from signals.tasks import process_signals_task

    with mock.patch.object(
        process_signals_task, "apply_async", side_effect=ConnectionError("redis down")
    ):
        response = post(client, [ticket("T-1"), ticket("T-2")])
    assert response.status_code == 202
    assert set(Signal.objects.values_list("status", flat=True)) == {"pending"}
    Signal.objects.update(received_at=clock.now() - services.SWEEP_GRACE)
    done, more = services.signals_sweep()
    assert (done, more) == (2, False)
    assert Ticket.objects.count() == 2
    assert PendingRecompute.objects.count() == 1  # one account, marked for recompute once
    assert services.signals_sweep() == (0, False)  # nothing twice


def test_it_accepts_every_kind(client, account_a):
    base = {"source": "crm", "account": {"external_id": "A-1"}, "occurred_at": "2026-10-01"}
    items = [
        {**base, "external_id": "c-1", "kind": "competitor",
         "attributes": {"competitor": "RivalCo", "activity": "evaluation"}},
        {**base, "external_id": "u-1", "kind": "usage",
         "attributes": {"active_users": 40, "licensed_users": 100, "adoption": 0.3}},
        {**base, "external_id": "s-1", "kind": "sentiment", "attributes": {"nps": 3}},
        {**base, "external_id": "o-1", "kind": "org_change",
         "attributes": {"change": "joined", "contact": {"email": "new@alpha.example",
                        "name": "New Exec", "title": "VP Ops", "roles": ["edm"]},
                        "from_company": "RivalCo customer"}},
    ]  # fmt: skip
    body = post(client, items).json()
    assert body["accepted"] == 4, body
    assert account_a.competitors.get().competitor == "RivalCo"
    assert account_a.usage.get().active_users == 40
    assert account_a.sentiment.get().nps == 3
    change = account_a.people_changes.get()
    assert (change.change, change.from_company, change.contact.roles) == (
        "joined", "RivalCo customer", ["edm"],
    )  # fmt: skip


def test_it_updates_the_same_signal_when_a_later_version_moves_to_another_month(client, account_a):
    post(client, ticket(status="open"))
    moved = post(client, {**ticket(status="solved"), "occurred_at": "2026-11-03T08:00:00Z"})
    assert moved.json()["results"][0]["version"] == 2
    assert Signal.objects.count() == 1
    assert Ticket.objects.get().status == "solved"


def test_it_never_answers_500_to_hostile_values(client, account_a):
    items = [
        ticket("T-nul\u0000"),
        ticket("T-1", subject="a\u0000b"),
        {**ticket("T-2"), "account": {"id": 1e400}},
        {**ticket("T-3"), "account": {"id": float("nan")}},
        {**ticket("T-4"), "occurred_at": 1e300},
        {**ticket("T-5"), "external_id": 3.5},
        ticket("T-6", tags=["ok", "bad\u0000tag"]),
        {**ticket("T-7"), "kind": ["ticket"]},  # unhashable: was a TypeError
    ]
    response = client.post(
        URL, data=json.dumps(items, allow_nan=True), content_type="application/json"
    )
    # nothing usable: a 400, still with a reason per item
    assert response.status_code == 400
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 8
    assert results[6]["reason"] == "attributes.tags contains a NUL character"
    assert results[7]["reason"].startswith("unknown kind ['ticket']")
    deep = b"[" * 100_000 + b"]" * 100_000
    response = client.post(URL, data=deep, content_type="application/json")
    assert response.status_code == 400


def test_it_answers_400_when_every_signal_of_a_list_is_rejected(client, account_a):
    response = client.post(URL, data=json.dumps([[None], 3]), content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    assert body["rejected"] == 2 and body["accepted"] == 0
    assert body["results"][0]["reason"] == "each signal must be a JSON object"
    response = client.post(
        URL, data=json.dumps([ticket("T-ok"), [None]]), content_type="application/json"
    )
    assert response.status_code == 202
    assert [r["status"] for r in response.json()["results"]] == ["accepted", "rejected"]


def test_it_stores_ids_with_tabs_newlines_and_backslashes_as_sent(client, account_a):
    # The storage path writes with COPY's text format, where these characters are special.
    odd = ["T\\1", "T\t2", "T\n3", "T\r4", "T\\.5", "T-ü-6", "T\\N"]
    body = post(client, [ticket(ext, subject=f"about {ext} \\ \\N") for ext in odd]).json()
    assert [r["status"] for r in body["results"]] == ["accepted"] * len(odd)
    stored = dict(Signal.objects.values_list("external_id", "payload"))
    assert sorted(stored) == sorted(odd)
    assert {p["attributes"]["subject"] for p in stored.values()} == {
        f"about {ext} \\ \\N" for ext in odd
    }
    again = post(client, [ticket(ext, subject=f"about {ext} \\ \\N") for ext in odd]).json()
    assert [r["status"] for r in again["results"]] == ["duplicate"] * len(odd)


def test_it_knows_a_resend_whatever_way_it_writes_the_same_time(client, account_a):
    first = post(client, ticket("T-1")).json()["results"][0]  # 2026-10-01T09:30:00Z
    for same in (
        "2026-10-01T09:30:00+00:00",
        "2026-10-01T11:30:00+02:00",
        "2026-10-01T09:30:00.000Z",
    ):
        again = post(client, {**ticket("T-1"), "occurred_at": same}).json()["results"][0]
        assert (again["status"], again["id"]) == ("duplicate", first["id"])
    assert SignalVersion.objects.count() == 0
