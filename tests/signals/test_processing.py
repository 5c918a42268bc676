"""Processing a batch: the facts each kind writes, a changed signal updating its fact, and a
number of queries that does not grow with the batch."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import CompetitorEvent, SentimentResponse, Ticket, UsageSnapshot
from csrisk import clock
from ctas.models import Cta
from signals import services
from signals.models import Signal
from tests.factories import AccountFactory
from tests.signals.helpers import ticket

NOW = dt.datetime(2026, 10, 20, 12, 0, tzinfo=dt.UTC)


def store(raws: list[dict[str, Any]]) -> list[int]:
    with transaction.atomic():
        return [o.id for o in services.signals_store(raws, publish=False)]


def signal(kind: str, ext: str, account: str, **attrs: Any) -> dict[str, Any]:
    return {
        "source": "survey" if kind == "sentiment" else "product",
        "external_id": ext,
        "kind": kind,
        "account": {"external_id": account},
        "occurred_at": "2026-10-01T09:30:00Z",
        "attributes": attrs,
    }


def batch(n: int, prefix: str, accounts: list[str]) -> list[dict[str, Any]]:
    """``n`` signals that open no CTA (each CTA a rule opens is its own writes), spread over
    ``accounts``: old low-priority tickets (no velocity, nothing urgent), good NPS, usage."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        account = accounts[i % len(accounts)]
        if i % 3 == 0:
            raw = ticket(f"{prefix}-{i}", account=account, priority="low")
            out.append({**raw, "occurred_at": "2026-06-01T09:30:00Z"})
        elif i % 3 == 1:
            out.append(signal("sentiment", f"{prefix}-{i}", account, nps=9, comment="Fine"))
        else:
            day = dt.date(2026, 10, 1) - dt.timedelta(weeks=i)
            raw = signal("usage", f"{prefix}-{i}", account, active_users=40, licensed_users=50)
            out.append({**raw, "occurred_at": f"{day.isoformat()}T09:30:00Z"})
    return out


def test_it_writes_each_kind_of_fact_with_its_values(org, account_a):
    ids = store(
        [
            ticket("T-1", tags=["api"], subject="Slow", requester_group="Ops"),
            signal("competitor", "C-1", "A-1", competitor="Rival", activity="mention", note="n"),
            signal("sentiment", "S-1", "A-1", nps=6, comment="Meh"),
            signal("usage", "U-1", "A-1", active_users=12, licensed_users=50, adoption=0.4),
        ]
    )
    assert services.signals_process(ids) == 4
    t = Ticket.objects.get()
    assert (t.account_id, t.source, t.external_id, t.subject, t.tags, t.requester_group) == (
        account_a.pk,
        "helpdesk",
        "T-1",
        "Slow",
        ["api"],
        "Ops",
    )
    assert (t.priority, t.status, t.solved_at) == ("normal", "open", None)
    c = CompetitorEvent.objects.get()
    assert (c.account_id, c.competitor, c.activity, c.note) == (
        account_a.pk,
        "Rival",
        "mention",
        "n",
    )
    s = SentimentResponse.objects.get()
    assert (s.account_id, s.nps, s.csat, s.comment) == (account_a.pk, 6, None, "Meh")
    u = UsageSnapshot.objects.get()
    assert (u.account_id, u.week, u.active_users, u.licensed_users, u.adoption) == (
        account_a.pk,
        dt.date(2026, 9, 28),  # the Monday of the week
        12,
        50,
        0.4,
    )


def test_it_updates_a_fact_when_its_signal_changes(org, account_a):
    services.signals_process(store([ticket("T-1")]))
    changed = ticket("T-1", status="solved", solved_at="2026-10-02T10:00:00Z", priority="high")
    services.signals_process(store([changed]))
    t = Ticket.objects.get()
    assert (t.status, t.priority) == ("solved", "high")
    assert t.solved_at == dt.datetime(2026, 10, 2, 10, tzinfo=dt.UTC)
    assert Signal.objects.filter(status="processed", processed_version=2).count() == 1


def test_it_processes_a_batch_in_a_number_of_queries_independent_of_its_size(org):
    accounts = [AccountFactory(owner=org.csm_a).crm_id for _ in range(6)]
    small = store(batch(6, "small", accounts))
    large = store(batch(120, "large", accounts))
    counts = []
    for ids in (small, large):
        with clock.frozen(NOW), CaptureQueriesContext(connection) as queries:
            assert services.signals_process(ids) == len(ids)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert not Cta.objects.exists()
    assert Ticket.objects.count() == 2 + 40
    assert SentimentResponse.objects.count() == 2 + 40


def test_it_finds_a_rule_cta_already_open_without_a_query_per_account(org):
    accounts = [AccountFactory(owner=org.csm_a) for _ in range(4)]

    def spike(prefix: str, days: int, n: int) -> list[dict[str, Any]]:
        at = (NOW - dt.timedelta(days=days)).isoformat()
        return [
            {**ticket(f"{prefix}-{a.pk}-{i}", account=a.crm_id), "occurred_at": at}
            for a in accounts
            for i in range(n)
        ]

    with clock.frozen(NOW):
        services.signals_process(store(spike("old", 120, 8) + spike("new", 10, 20)))
        assert Cta.objects.filter(area="support").count() == 4
        with CaptureQueriesContext(connection) as queries:
            services.signals_process(store(spike("more", 5, 1)))  # the rule fires again
    assert not [q for q in queries.captured_queries if 'INSERT INTO "ctas_cta"' in q["sql"]]
    assert not [q for q in queries.captured_queries if 'FROM "ctas_cta"' in q["sql"]][1:]
    assert Cta.objects.filter(area="support").count() == 4


def test_it_asks_for_the_recompute_soon_once_no_signal_is_left_pending(org, account_a):
    first, second = store([ticket("T-1")]), store([ticket("T-2")])
    with mock.patch("signals.services.processing.recompute_pending_soon") as soon:
        services.signals_process(first)  # T-2 still waits
        assert soon.call_count == 0
        services.signals_process(second)
        assert soon.call_count == 1
        services.signals_process(second)  # nothing done: nothing asked
        assert soon.call_count == 1


def test_a_task_takes_the_backlog_up_to_its_bound_and_holds_the_recompute_meanwhile(org, account_a):
    from scorecards.services import pending
    from signals.tasks import process_signals_task

    first = store([ticket("T-1")])
    store([ticket(f"T-{i}") for i in range(2, 6)])  # queued behind, their tasks not run yet
    with (
        mock.patch.object(services, "PROCESS_BACKLOG", 3),
        mock.patch("signals.services.processing.recompute_hold") as hold,
        mock.patch("signals.services.processing.recompute_release") as release,
    ):
        assert process_signals_task(first) == 3  # its own, then the oldest others
        assert (hold.call_count, release.call_count) == (1, 0)  # more is queued behind
        assert process_signals_task([]) == 2
        assert release.call_count == 1  # the queue is empty: a held run may go
    assert not Signal.objects.filter(status="pending").exists()
    assert pending.recompute_wait() == 0


def broker_mode(settings: Any) -> None:
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False


def test_with_a_broker_one_processing_task_waits_at_a_time(org, account_a, settings):
    """A burst of requests queues one task, not one per request: the waiting task takes
    them all; once it starts, the next request queues the next one."""
    from django.core.cache import cache

    from signals.services import processing
    from signals.tasks import process_signals_task

    cache.delete(processing.QUEUED_KEY)
    broker_mode(settings)
    try:
        with mock.patch.object(process_signals_task, "apply_async") as queued:
            for i in range(5):
                processing.publish_processing([100 + i])
            assert queued.call_count == 1
            assert queued.call_args.args[0] == ([100],)
            processing.processing_started()  # the worker took it
            processing.publish_processing([200])
            processing.publish_processing([201])
            assert queued.call_count == 2
    finally:
        cache.delete(processing.QUEUED_KEY)


def test_a_broker_failure_leaves_the_next_request_free_to_queue(org, account_a, settings):
    from django.core.cache import cache

    from signals.services import processing
    from signals.tasks import process_signals_task

    cache.delete(processing.QUEUED_KEY)
    broker_mode(settings)
    try:
        with mock.patch.object(
            process_signals_task, "apply_async", side_effect=ConnectionError("redis down")
        ) as queued:
            processing.publish_processing([1])
            processing.publish_processing([2])
        assert queued.call_count == 2  # no mark left behind by the failed one
    finally:
        cache.delete(processing.QUEUED_KEY)


def test_a_task_with_more_pending_than_it_takes_queues_one_more_for_another_worker(
    org, account_a, settings
):
    """Four pending, a bound of 3: the task queues one more before it starts (a second
    worker may share the backlog) and, at its bound with one left, does not queue a second
    while that one waits."""
    from django.core.cache import cache

    from signals.services import processing
    from signals.tasks import process_signals_task

    first = store([ticket("T-1")])
    store([ticket(f"T-{i}") for i in range(2, 5)])
    cache.delete(processing.QUEUED_KEY)
    broker_mode(settings)
    try:
        with mock.patch.object(process_signals_task, "apply_async") as queued:
            assert services.signals_process_queued(first, backlog=3) == 3
            assert queued.call_count == 1
            assert queued.call_args.args[0] == ([],)
            assert Signal.objects.filter(status="pending").count() == 1
            assert services.signals_process_queued([], backlog=3) == 1
            assert queued.call_count == 1  # nothing left: nothing queued
    finally:
        cache.delete(processing.QUEUED_KEY)
