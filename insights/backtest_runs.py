"""The signal backtest as background work: ask for a run, run it, sweep lost ones, read
the latest. Reading every renewal at four horizons takes a minute on the demo book, so no
page computes it: pages show the last run's results with their date, and the progress of
the run under way.

Its own module, not ``services.py``: one concept (the backtest job), writes and reads
together, small.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import F

from csrisk import clock, jobs
from csrisk.models import User
from insights import backtest
from insights.models import BacktestRun, BacktestStatus
from insights.services import can_see_summary

log = logging.getLogger(__name__)

# Queued by name (csrisk.jobs): services never import tasks.
RUN_TASK = "insights.tasks.backtest_run_task"
# A run whose task was not picked up, or that has been running this long, is lost: the
# sweeper resends it, and after MAX_ATTEMPTS marks it failed with the reason.
RESEND_AFTER = dt.timedelta(minutes=10)
STUCK_AFTER = dt.timedelta(minutes=30)
MAX_ATTEMPTS = 3
# A run no worker ever took (it is resent, never claimed) is given up after a day.
GIVE_UP_AFTER = dt.timedelta(hours=24)
ACTIVE = (BacktestStatus.QUEUED, BacktestStatus.RUNNING)


# --- reads ------------------------------------------------------------------------------------


@dataclass
class BacktestState:
    """What a page or the API shows: the latest finished run and the one under way."""

    latest: BacktestRun | None
    active: BacktestRun | None
    stale: bool
    # The most recent run when it failed (its error is shown until a run succeeds).
    failed: BacktestRun | None = None

    def results(self, horizon: int) -> list[backtest.Result]:
        if self.latest is None:
            return []
        return [backtest.Result.from_json(r) for r in self.latest.results.get(str(horizon), [])]


def backtest_state() -> BacktestState:
    """The latest done run, the active one, and whether the latest is stale (another day,
    or the outcomes or measure settings changed since)."""
    latest = BacktestRun.objects.filter(status=BacktestStatus.DONE).first()
    active = BacktestRun.objects.filter(status__in=ACTIVE).first()
    newest = BacktestRun.objects.first()
    failed = newest if newest is not None and newest.status == BacktestStatus.FAILED else None
    stale = latest is None or latest.as_of < clock.today() or latest.stamp != _stamp()
    return BacktestState(latest=latest, active=active, stale=stale, failed=failed)


def _stamp() -> str:
    return backtest.outcomes_stamp()


# --- writes -----------------------------------------------------------------------------------


def backtest_run_request(*, by: User | None) -> BacktestRun:
    """Queue a run over every horizon, or return the one already queued or running (so a
    second click, or a second visitor, starts nothing new). ``by`` None: the system."""
    if by is not None and not can_see_summary(by):
        raise PermissionDenied("The backtest is for the VP, the CEO and executives.")
    active = BacktestRun.objects.filter(status__in=ACTIVE).first()
    if active is not None:
        return active
    now = clock.now()
    try:
        with transaction.atomic():
            run = BacktestRun.objects.create(
                as_of=clock.today(),
                horizons=list(backtest.HORIZONS),
                requested_by=by,
                requested_at=now,
                queued_at=now,
            )
    except IntegrityError:
        # Another request queued one between our look and our insert.
        return BacktestRun.objects.filter(status__in=ACTIVE).first() or backtest_run_request(by=by)
    transaction.on_commit(lambda: _dispatch(run.pk))
    return run


def backtest_run_if_stale(*, by: User | None) -> BacktestState:
    """A page visit: queue a run when there is no fresh result and none under way. After
    a failure today, visits wait for Run again instead of failing on every visit."""
    state = backtest_state()
    failed_today = state.failed is not None and state.failed.as_of == clock.today()
    if state.stale and state.active is None and not failed_today:
        state.active = backtest_run_request(by=by)
    return state


def _dispatch(run_id: int) -> None:
    """Send the run's task. Without a broker tasks run where they are queued, which would
    hold the page for the whole run: a thread runs it instead."""
    if jobs.runs_eagerly() and settings.CSRISK_BACKTEST_THREAD:
        threading.Thread(
            target=_run_in_thread, args=(run_id,), name=f"backtest-{run_id}", daemon=True
        ).start()
    else:
        jobs.queue(RUN_TASK, run_id)


def _run_in_thread(run_id: int) -> None:
    try:
        jobs.queue(RUN_TASK, run_id)
    except Exception:
        log.exception("backtest run %s failed", run_id)
    finally:
        close_old_connections()


def backtest_run_execute(*, run_id: int) -> BacktestRun | None:
    """Run a queued backtest; idempotent: only the caller that moves it from queued to
    running computes it, anyone else gets it back untouched."""
    now = clock.now()
    claimed = BacktestRun.objects.filter(pk=run_id, status=BacktestStatus.QUEUED).update(
        status=BacktestStatus.RUNNING, started_at=now, progress=0, attempts=F("attempts") + 1
    )
    if not claimed:
        return BacktestRun.objects.filter(pk=run_id).first()
    run = BacktestRun.objects.get(pk=run_id)
    try:
        stamp = _stamp()
        last = [-1]

        def progress(fraction: float) -> None:
            percent = min(99, int(fraction * 100))
            if percent != last[0]:  # a write per percent, not per reading date
                last[0] = percent
                BacktestRun.objects.filter(pk=run_id, status=BacktestStatus.RUNNING).update(
                    progress=percent
                )

        results = backtest.backtest_all(tuple(run.horizons), on_progress=progress)
    except Exception as exc:
        log.exception("backtest run %s failed", run_id)
        BacktestRun.objects.filter(pk=run_id, status=BacktestStatus.RUNNING).update(
            status=BacktestStatus.FAILED,
            error=f"The run failed: {exc}"[:2000],
            finished_at=clock.now(),
        )
        return BacktestRun.objects.get(pk=run_id)
    BacktestRun.objects.filter(pk=run_id, status=BacktestStatus.RUNNING).update(
        status=BacktestStatus.DONE,
        progress=100,
        stamp=stamp,
        results={str(h): [r.to_json() for r in rs] for h, rs in results.items()},
        finished_at=clock.now(),
    )
    run.refresh_from_db()
    return run


def backtest_runs_sweep() -> tuple[int, int]:
    """Resend a run left queued too long (a lost message) or running too long (a worker
    that died); after MAX_ATTEMPTS runs, or a day queued, mark it failed with the reason.
    Returns (resent, failed)."""
    now = clock.now()
    failed = BacktestRun.objects.filter(
        status=BacktestStatus.QUEUED, requested_at__lt=now - GIVE_UP_AFTER
    ).update(
        status=BacktestStatus.FAILED,
        error="The run never started (no background worker took it); press Run again.",
        finished_at=now,
    )
    lost = list(
        BacktestRun.objects.filter(
            status=BacktestStatus.QUEUED, queued_at__lt=now - RESEND_AFTER
        ).values_list("pk", "status", "attempts")
    ) + list(
        BacktestRun.objects.filter(
            status=BacktestStatus.RUNNING, started_at__lt=now - STUCK_AFTER
        ).values_list("pk", "status", "attempts")
    )
    resent = 0
    for pk, status, attempts in lost:
        # Conditional updates: a run that moved on meanwhile is left alone.
        if attempts >= MAX_ATTEMPTS:
            failed += BacktestRun.objects.filter(pk=pk, status=status).update(
                status=BacktestStatus.FAILED,
                error=f"The run was lost {attempts} times (no worker finished it); "
                "press Run again to retry.",
                finished_at=now,
            )
        elif BacktestRun.objects.filter(pk=pk, status=status).update(
            status=BacktestStatus.QUEUED, queued_at=now, progress=0
        ):
            transaction.on_commit(lambda pk=pk: _dispatch(pk))
            resent += 1
    return resent, failed
