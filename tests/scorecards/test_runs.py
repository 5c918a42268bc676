"""A full recompute as a run of bounded chunks: split, every account once, retries."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest

from accounts.choices import LifecycleStage
from csrisk import clock
from scorecards import services
from scorecards.models import AreaScore, ColorChange, RecomputeChunk, RecomputeRun, Scorecard
from scorecards.services import recomputation, runs
from scorecards.tasks import recompute_all_task, recompute_chunk_task
from tests.factories import AccountFactory


def test_it_splits_ids_into_bounded_consecutive_chunks() -> None:
    ids = [9, 3, 7, 1, 5, 11, 13]
    assert services.account_chunks(ids, 3) == [[1, 3], [5, 7], [9, 11, 13]]
    assert services.account_chunks(ids, 7) == [sorted(ids)]
    assert services.account_chunks([], 3) == []
    assert services.account_chunks(range(1, 2001), 500)[-1] == list(range(1501, 2001))
    # as few chunks as the bound allows, evenly filled: the run waits for its longest
    chunks = services.account_chunks(range(8582), 5000)
    assert [len(c) for c in chunks] == [4291, 4291]
    chunks = services.account_chunks(range(85_817), 2000)
    assert len(chunks) == 43 and {len(c) for c in chunks} == {1995, 1996}
    assert [a for c in chunks for a in c] == list(range(85_817))
    with pytest.raises(ValueError):
        services.account_chunks(ids, 0)


@pytest.fixture
def book(org) -> tuple[list[int], int]:
    live = [AccountFactory(team=org.team_a, owner=org.csm_a).pk for _ in range(7)]
    churned = AccountFactory(
        team=org.team_a, owner=org.csm_a, lifecycle_stage=LifecycleStage.CHURNED
    ).pk
    return live, churned


def _recorded_recompute() -> tuple[list[list[int]], mock._patch]:
    calls: list[list[int]] = []
    real = recomputation.recompute

    def spy(account_ids, **kwargs):
        calls.append(list(account_ids))
        return real(account_ids, **kwargs)

    return calls, mock.patch.object(runs, "recompute", side_effect=spy)


@pytest.mark.django_db
def test_it_recomputes_every_live_account_once_in_eager_mode(
    book, settings, django_capture_on_commit_callbacks
) -> None:
    live, churned = book
    settings.SCORECARD_RECOMPUTE_CHUNK = 3
    calls, patch = _recorded_recompute()
    with patch, django_capture_on_commit_callbacks(execute=True):
        run_id = recompute_all_task.delay().get()

    assert [len(c) for c in calls] == [2, 2, 3]  # bounded chunks, in order
    recomputed = [a for c in calls for a in c]
    assert sorted(recomputed) == sorted(live)  # each once, the churned one not at all
    assert churned not in recomputed
    run = RecomputeRun.objects.get(pk=run_id)
    assert run.finished_at is not None and run.accounts == 7 and run.chunk_size == 3
    assert list(run.chunks.values_list("accounts", "attempts")) == [(2, 1), (2, 1), (3, 1)]
    assert Scorecard.objects.filter(account_id__in=live).count() == 7
    assert AreaScore.objects.filter(account_id__in=live).count() == 7 * 8


@pytest.mark.django_db
def test_it_skips_a_chunk_already_done(book, settings, django_capture_on_commit_callbacks):
    settings.SCORECARD_RECOMPUTE_CHUNK = 4
    with django_capture_on_commit_callbacks(execute=True):
        run = services.recompute_run_start()
    chunk = run.chunks.first()
    calls, patch = _recorded_recompute()
    with patch:
        # A redelivered message (the worker died after marking it done, before the ack).
        assert recompute_chunk_task.delay(chunk.pk).get() == 0
    assert calls == []
    assert RecomputeChunk.objects.get(pk=chunk.pk).attempts == 1


@pytest.mark.django_db
def test_it_leaves_a_chunk_another_worker_holds(book, settings) -> None:
    settings.SCORECARD_RECOMPUTE_CHUNK = 10
    run = services.recompute_run_start()  # not committed: nothing is queued
    chunk = run.chunks.get()
    RecomputeChunk.objects.filter(pk=chunk.pk).update(
        claimed_until=clock.now() + dt.timedelta(minutes=5), attempts=1
    )
    calls, patch = _recorded_recompute()
    with patch:
        assert services.recompute_chunk(chunk.pk) is None
    assert calls == []
    retry = mock.patch.object(recompute_chunk_task, "retry", side_effect=RuntimeError)
    with patch, retry as r, pytest.raises(RuntimeError):
        recompute_chunk_task.run(chunk.pk)
    assert r.call_args.kwargs["countdown"] == runs.LEASE.total_seconds()


@pytest.mark.django_db
def test_a_chunk_that_died_is_taken_again_without_writing_twice(book, settings) -> None:
    settings.SCORECARD_RECOMPUTE_CHUNK = 10
    run = services.recompute_run_start()
    chunk = run.chunks.get()
    assert services.recompute_chunk(chunk.pk) == 7
    written = (AreaScore.objects.count(), Scorecard.objects.count(), ColorChange.objects.count())
    # The worker committed the chunk's rows, then died before marking it done; its
    # lease ran out and the message came back.
    RecomputeChunk.objects.filter(pk=chunk.pk).update(
        done_at=None, claimed_until=clock.now() - dt.timedelta(seconds=1)
    )
    RecomputeRun.objects.filter(pk=run.pk).update(finished_at=None)

    assert services.recompute_chunk(chunk.pk) == 7
    assert (
        AreaScore.objects.count(),
        Scorecard.objects.count(),
        ColorChange.objects.count(),
    ) == written
    chunk.refresh_from_db()
    assert chunk.attempts == 2 and chunk.done_at is not None
    assert RecomputeRun.objects.get(pk=run.pk).finished_at is not None


@pytest.mark.django_db
def test_the_sweeper_resends_chunks_a_lost_message_left(book, settings) -> None:
    settings.SCORECARD_RECOMPUTE_CHUNK = 3
    run = services.recompute_run_start()  # its messages were never sent (lost)
    chunks = list(run.chunks.order_by("pk"))
    RecomputeChunk.objects.filter(pk=chunks[0].pk).update(
        claimed_until=clock.now() - dt.timedelta(seconds=1), attempts=1
    )  # its worker died
    RecomputeChunk.objects.filter(pk=chunks[1].pk).update(
        claimed_until=clock.now() + dt.timedelta(minutes=5), attempts=1
    )  # still running
    with mock.patch("csrisk.jobs.queue_group") as queued:
        assert services.requeue_stale_chunks() == 1  # the young unclaimed ones wait
    queued.assert_called_once_with(runs.CHUNK_TASK, [(chunks[0].pk,)])

    RecomputeRun.objects.filter(pk=run.pk).update(created_at=clock.now() - dt.timedelta(hours=2))
    with mock.patch("csrisk.jobs.queue_group") as queued:
        assert services.requeue_stale_chunks() == 2
    assert queued.call_args.args[1] == [(chunks[0].pk,), (chunks[2].pk,)]
