"""Processing, coalescing, rules and concurrency, through the services."""

from __future__ import annotations

import datetime as dt
import threading
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection, transaction

from accounts.models import Ticket
from csrisk import clock
from ctas.models import Cta
from scorecards import services as scorecard_services
from scorecards.models import PendingRecompute
from scorecards.services import pending as scorecard_pending
from signals import services
from signals.models import Signal, SignalRule
from tests.factories import AccountFactory
from tests.signals.helpers import ticket

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


def store(raws):
    with transaction.atomic():
        return services.signals_store(raws, publish=False)


def test_it_changes_nothing_when_processing_twice(org, account_a):
    outcomes = store([ticket(f"T-{i}") for i in range(5)])
    ids = [o.id for o in outcomes]
    assert services.signals_process(ids) == 5
    assert services.signals_process(ids) == 0
    assert Ticket.objects.count() == 5
    assert Signal.objects.filter(status="processed", processed_version=1).count() == 5


def test_it_recomputes_each_of_k_accounts_once_per_window_for_a_burst(org, settings):
    accounts = [AccountFactory(owner=org.csm_a) for _ in range(3)]
    SignalRule.objects.update(active=False)  # a rule's CTA recomputes its account at once
    outcomes = store([ticket(f"T-{i}", account=accounts[i % 3].crm_id) for i in range(300)])
    ids = [o.id for o in outcomes]
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from csrisk.celery import app
    from scorecards.tasks import recompute_pending_task

    app.conf.task_always_eager = False
    with (
        mock.patch.object(recompute_pending_task, "apply_async") as scheduled,
        mock.patch.object(scorecard_pending, "recompute", wraps=scorecard_services.recompute) as rc,
    ):
        for start in range(0, 300, 20):  # fifteen worker tasks, each with its own commit
            with transaction.atomic():
                services.signals_process(ids[start : start + 20])
            for callback in connection.run_on_commit[:]:
                callback[1]()
            connection.run_on_commit.clear()
        assert scheduled.call_count == 1  # one run scheduled for the window
        assert PendingRecompute.objects.count() == 3
        scorecard_services.recompute_pending()
    assert rc.call_count == 1
    assert sorted(rc.call_args.args[0]) == sorted(a.pk for a in accounts)


def test_it_opens_one_support_cta_for_a_velocity_spike(org, account_a):
    with clock.frozen(NOW):
        old = [
            {**ticket(f"old-{i}"), "occurred_at": (NOW - dt.timedelta(days=120)).isoformat()}
            for i in range(8)
        ]
        new = [
            {**ticket(f"new-{i}"), "occurred_at": (NOW - dt.timedelta(days=10)).isoformat()}
            for i in range(20)
        ]
        services.signals_process([o.id for o in store(old + new)])
        services.signals_process([o.id for o in store([{**new[0], "external_id": "new-x"}])])
    cta = Cta.objects.get()
    assert (cta.area, cta.reason) == ("support", "Non-critical ticket velocity spiking")
    assert "+150%" in cta.description  # (20 - 8) / 8 when it opened; the 21st changes nothing


def test_it_opens_no_cta_for_a_rise_in_tickets_too_small_to_judge(org, account_a):
    # 2 non-critical tickets after none: +25% over the floor of 8, which a rule at 25% would
    # call a spike; two tickets are no trend (the measure's row is thin), so no CTA.
    SignalRule.objects.filter(trigger="velocity").update(threshold=0.25, active=True)
    with clock.frozen(NOW):
        new = [
            {**ticket(f"new-{i}"), "occurred_at": (NOW - dt.timedelta(days=10)).isoformat()}
            for i in range(2)
        ]
        services.signals_process([o.id for o in store(new)])
    assert not Cta.objects.filter(area="support").exists()


def test_it_opens_a_product_cta_for_an_evaluation_but_not_a_mention(org, account_a):
    base = {"source": "crm", "kind": "competitor", "account": {"external_id": "A-1"},
            "occurred_at": "2026-10-01T00:00:00Z"}  # fmt: skip
    mention = {"competitor": "Rival", "activity": "mention"}
    evaluation = {"competitor": "Rival", "activity": "evaluation"}
    outcomes = store(
        [
            {**base, "external_id": "c1", "attributes": mention},
            {**base, "external_id": "c2", "attributes": evaluation},
        ]
    )
    services.signals_process([o.id for o in outcomes])
    assert list(Cta.objects.values_list("reason", "area")) == [
        ("Evaluating a competitor: Rival", "product")
    ]


@pytest.mark.skipif(
    not settings.DATABASE_URL.startswith(("postgres", "pgsql")),
    reason="concurrent writers need PostgreSQL (SQLite serialises every write)",
)
@pytest.mark.django_db(transaction=True)
def test_it_stores_each_signal_once_under_concurrent_sends(org):
    AccountFactory(owner=org.csm_a, crm_id="A-1")
    batch = [ticket(f"T-{i}") for i in range(200)]
    results: list[list] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(services.signals_store(batch, publish=False))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Signal.objects.count() == 200
    statuses = [o.status for r in results for o in r]
    assert statuses.count("accepted") == 200
    assert statuses.count("duplicate") == 600


@pytest.mark.skipif(
    not settings.DATABASE_URL.startswith(("postgres", "pgsql")),
    reason="concurrent writers need PostgreSQL (SQLite serialises every write)",
)
@pytest.mark.django_db(transaction=True)
def test_it_stores_each_signal_once_when_concurrent_batches_overlap(org):
    AccountFactory(owner=org.csm_a, crm_id="A-1")
    store([ticket(f"T-{i}") for i in range(0, 350, 40)])  # nine known before
    batches = [[ticket(f"T-{i}") for i in range(k * 50, k * 50 + 200)] for k in range(4)]
    results: list[list] = []
    barrier = threading.Barrier(4)

    def send(batch: list) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                results.append(services.signals_store(batch, publish=False))
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Signal.objects.count() == 350
    statuses = [o.status for r in results for o in r]
    assert statuses.count("accepted") == 350 - 9  # T-0 … T-320 were stored before
    assert statuses.count("duplicate") == 800 - 341
    accepted = [o.id for r in results for o in r if o.status == "accepted"]
    assert set(accepted) <= set(Signal.objects.values_list("pk", flat=True))


def test_it_marks_one_bad_signal_failed_and_processes_the_rest(org, account_a):
    outcomes = store([ticket(f"T-{i}") for i in range(3)])
    bad = Signal.objects.get(pk=outcomes[1].id)
    bad.payload = {"attributes": None}  # a row damaged outside the API
    bad.save()
    assert services.signals_process([o.id for o in outcomes]) == 2
    bad.refresh_from_db()
    assert bad.status == "failed"
    assert "Error" in bad.error
    assert Ticket.objects.count() == 2


def test_it_stores_the_first_good_copy_when_an_earlier_copy_of_the_key_is_bad(org, account_a):
    bad = {**ticket("T-1"), "occurred_at": "yesterday"}
    outcomes = store([bad, ticket("T-1", subject="good"), ticket("T-2")])
    assert [(o.index, o.status) for o in outcomes] == [
        (0, "rejected"),
        (1, "accepted"),
        (2, "accepted"),
    ]
    assert "occurred_at" in outcomes[0].reason
    stored = Signal.objects.get(external_id="T-1")
    assert stored.pk == outcomes[1].id
    assert stored.payload["attributes"]["subject"] == "good"


def test_it_answers_each_item_of_a_batch_of_new_known_changed_and_bad_signals(org, account_a):
    known = store([ticket(f"T-{i}") for i in range(10)])
    batch = [
        ticket("T-10"),
        ticket("T-0"),  # a resend
        ticket("T-11"),
        ticket("T-5", status="solved"),  # a later version
        {**ticket("T-12"), "kind": "rumour"},
        ticket("T-12"),
        ticket("T-12"),  # the same again within the batch
        ticket("T-13", account=999_999),  # no such account id
        ticket("T-14", account="NOBODY"),  # unknown organisation: parked
    ]
    outcomes = store(batch)
    assert [(o.index, o.status) for o in outcomes] == [
        (0, "accepted"),
        (1, "duplicate"),
        (2, "accepted"),
        (3, "accepted"),
        (4, "rejected"),
        (5, "accepted"),
        (6, "duplicate"),
        (7, "rejected"),
        (8, "accepted"),
    ]
    assert outcomes[1].id == known[0].id
    assert (outcomes[3].id, outcomes[3].version) == (known[5].id, 2)
    assert outcomes[6].id == outcomes[5].id
    assert outcomes[7].reason == "no account with id 999999"
    assert outcomes[8].unmatched
    new = [outcomes[i].id for i in (0, 2, 5, 8)]
    assert len(set(new)) == 4
    assert set(Signal.objects.filter(pk__in=new).values_list("external_id", flat=True)) == {
        "T-10",
        "T-11",
        "T-12",
        "T-14",
    }
    assert Signal.objects.count() == 14


@pytest.mark.parametrize("where", [0, 150, 299])
def test_it_stores_the_new_signals_of_a_batch_with_one_known_signal_anywhere(org, account_a, where):
    store([ticket("T-known")])
    batch = [ticket(f"T-{i}") for i in range(299)]
    batch.insert(where, ticket("T-known"))
    outcomes = store(batch)
    assert [o.status for o in outcomes].count("accepted") == 299
    assert outcomes[where].status == "duplicate"
    assert Signal.objects.count() == 300
    assert len({o.id for o in outcomes}) == 300
