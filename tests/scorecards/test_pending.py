"""The coalesced recompute of touched accounts: one run for a whole burst, a mark that
arrives during a run kept for the next one, and runs spaced by the time they take."""

from __future__ import annotations

import time
from unittest import mock

from django.core.cache import cache

from accounts.models import Account
from scorecards import services
from scorecards.models import PendingRecompute, Scorecard
from scorecards.services import pending


def test_it_recomputes_a_burst_of_more_than_500_accounts_in_one_run(org):
    accounts = Account.objects.bulk_create(
        [Account(name=f"Burst {i}", crm_id=f"BU-{i}", owner=org.csm_a) for i in range(600)]
    )
    services.request_recompute(a.pk for a in accounts)
    with mock.patch.object(pending, "recompute", wraps=services.recompute) as spy:
        assert pending.recompute_pending() == (600, False)
    assert spy.call_count == 1
    assert Scorecard.objects.count() == 600
    assert not PendingRecompute.objects.exists()


def test_it_keeps_a_mark_that_arrives_during_a_run_for_the_next_run(account_a, account_b):
    services.request_recompute([account_a.pk, account_b.pk])

    def run(ids: list[int]) -> None:
        # a fact of account_a committed after the run read its facts
        services.request_recompute([account_a.pk])

    with mock.patch.object(pending, "recompute", side_effect=run):
        assert pending.recompute_pending() == (2, True)
    assert list(PendingRecompute.objects.values_list("account_id", flat=True)) == [account_a.pk]


def test_it_spaces_runs_by_the_time_the_last_one_took(org, account_a, settings):
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(pending.SCHEDULED_KEY)
    try:
        # the last run ended just now and took 3 s: the next one waits twice that
        cache.set(pending.NEXT_RUN_KEY, time.time() + 3.0 * pending.RECOMPUTE_SPACING)
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            for _ in range(5):
                pending._schedule_pending()
        assert queued.call_count == 1
        assert 5.0 < queued.call_args.kwargs["countdown"] <= 3.0 * pending.RECOMPUTE_SPACING
        # long after it ended: the window
        cache.set(pending.NEXT_RUN_KEY, time.time() - 100)
        assert pending.recompute_delay() == pending.RECOMPUTE_WINDOW_SECONDS
    finally:
        cache.delete(pending.NEXT_RUN_KEY)
        cache.delete(pending.SCHEDULED_KEY)


def test_it_records_when_the_next_run_may_start(account_a):
    cache.delete(pending.NEXT_RUN_KEY)
    services.request_recompute([account_a.pk])
    before = time.time()
    pending.recompute_pending()
    after = time.time()
    took = after - before
    assert (
        after - took <= cache.get(pending.NEXT_RUN_KEY) <= after + pending.RECOMPUTE_SPACING * took
    )
    cache.delete(pending.NEXT_RUN_KEY)


def test_it_keeps_one_run_scheduled_until_it_starts(org, account_a, settings):
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(pending.SCHEDULED_KEY)
    cache.delete(pending.NEXT_RUN_KEY)
    try:
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            pending._schedule_pending()
            # the worker is busy processing past the window: still the one run waiting
            with mock.patch.object(cache, "add", wraps=cache.add) as add:
                pending._schedule_pending()
            assert add.call_args.kwargs["timeout"] > pending.RECOMPUTE_WINDOW_SECONDS + 30
            assert queued.call_count == 1
            services.request_recompute([account_a.pk])
            pending.recompute_pending()  # the run starts: the next mark schedules again
            pending._schedule_pending()
        assert queued.call_count == 2
    finally:
        cache.delete(pending.NEXT_RUN_KEY)
        cache.delete(pending.SCHEDULED_KEY)


def test_it_runs_the_pending_recompute_a_window_after_the_backlog_is_done(org, settings):
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    cache.delete(pending.SOON_KEY)
    cache.delete(pending.SCHEDULED_KEY)
    try:
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            for _ in range(5):
                pending.recompute_pending_soon()
        assert queued.call_count == 1  # one a window
        assert queued.call_args.kwargs["countdown"] == pending.RECOMPUTE_WINDOW_SECONDS
        cache.delete(pending.SOON_KEY)
        cache.set(pending.SCHEDULED_KEY, time.time() + 0.5)  # a run starts within the window
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            pending.recompute_pending_soon()
        assert queued.call_count == 0
        # A run due already, held while the backlog was processed: it goes now.
        cache.set(pending.SCHEDULED_KEY, time.time() - 2)
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            pending.recompute_pending_soon()
        assert queued.call_count == 1
        assert queued.call_args.kwargs["countdown"] == 0
    finally:
        cache.delete(pending.SOON_KEY)
        cache.delete(pending.SCHEDULED_KEY)


def test_a_backlog_holds_a_due_run_until_it_is_done_or_for_at_most_the_cap(org, settings):
    from csrisk.celery import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        assert pending.recompute_wait() == 0  # nothing holds it
        pending.recompute_hold()
        assert pending.recompute_wait() == pending.RECOMPUTE_HOLD_POLL_SECONDS
        with mock.patch("scorecards.tasks.recompute_pending_task.apply_async") as queued:
            from scorecards.tasks import recompute_pending_task

            assert recompute_pending_task() == 0  # held: it looks again shortly
        assert queued.call_args.kwargs["countdown"] == pending.RECOMPUTE_HOLD_POLL_SECONDS
        # Held since longer than the cap: it runs whatever the backlog.
        cache.set(pending.HELD_SINCE_KEY, time.time() - pending.RECOMPUTE_HOLD_MAX_SECONDS)
        assert pending.recompute_wait() == 0
        cache.delete(pending.HELD_SINCE_KEY)
        pending.recompute_release()
        assert pending.recompute_wait() == 0
    finally:
        pending.recompute_release()
        cache.delete(pending.HELD_SINCE_KEY)
