"""Coalesced recompute requests: however often an account is marked, it is recomputed once
per run (``request_recompute`` → ``PendingRecompute`` → ``recompute_pending``).

A run is scheduled ``RECOMPUTE_WINDOW_SECONDS`` after a mark, and never sooner than
``RECOMPUTE_SPACING`` times the last run's duration after that run ended. A trickle of
signals is recomputed about a second after it arrives; a burst (processing tasks queued back
to back on the same worker) is recomputed in a few large vectorised runs instead of one run
per processed batch, so the worker spends at most about a third of its time recomputing
while signals wait to be processed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from csrisk import clock, jobs
from csrisk.db import upsert_rows
from scorecards.models import PendingRecompute
from scorecards.services.recomputation import CHUNK, recompute

RECOMPUTE_WINDOW_SECONDS = 1
RECOMPUTE_SPACING = 2
SCHEDULED_KEY = "csrisk:scorecards:recompute-scheduled"
SCHEDULE_SLACK_SECONDS = 60
SOON_KEY = "csrisk:scorecards:recompute-soon"
# When the next run may start (epoch seconds), set by the last run from its duration.
NEXT_RUN_KEY = "csrisk:scorecards:recompute-next"
PENDING_TASK = "scorecards.tasks.recompute_pending_task"
# A caller working through a backlog holds the runs that fall due meanwhile (``recompute_hold``),
# at most this long after the first held one was due; a held run looks again this often.
HOLD_KEY = "csrisk:scorecards:recompute-hold"
HELD_SINCE_KEY = "csrisk:scorecards:recompute-held-since"
RECOMPUTE_HOLD_MAX_SECONDS = 10
RECOMPUTE_HOLD_POLL_SECONDS = 0.5


def request_recompute(account_ids: Iterable[int]) -> None:
    """Mark accounts for recompute. However many times an account is marked before the
    next run, it is recomputed once: the marks collapse into one PendingRecompute row."""
    ids = set(account_ids)
    if not ids:
        return
    now = clock.now()
    # A mark that arrives while a run is under way moves its row's time past the run's
    # start, so the run does not delete it: the run may have read the facts before them.
    # In account order, so two processing transactions lock the rows they share in the
    # same order (no deadlock).
    upsert_rows(
        PendingRecompute,
        ("account_id", "requested_at"),
        [(i, now) for i in sorted(ids)],
        unique=["account"],
    )
    transaction.on_commit(_schedule_pending)


def recompute_delay() -> float:
    """Seconds until the next run may start: the window, or longer right after a long run."""
    not_before = cache.get(NEXT_RUN_KEY) or 0.0
    return max(float(RECOMPUTE_WINDOW_SECONDS), float(not_before) - time.time())


def _schedule_pending() -> None:
    if jobs.runs_eagerly():
        jobs.queue(PENDING_TASK)
        return
    # One scheduled run at a time, whatever the number of requests before it: the key is
    # held until the run starts (it deletes it), so a worker busy with a burst of
    # processing has one run waiting, not one per window; its timeout covers a lost
    # message (beat's run every minute covers it too).
    delay = recompute_delay()
    if cache.add(SCHEDULED_KEY, time.time() + delay, timeout=delay + SCHEDULE_SLACK_SECONDS):
        jobs.queue(PENDING_TASK, countdown=delay)


def recompute_pending_soon() -> None:
    """The caller's backlog is done (no more marks coming soon): run the pending recompute a
    window from now instead of waiting out the spacing, which only keeps a busy worker
    processing (at most one such run a window)."""
    if jobs.runs_eagerly():
        return  # the marks' own runs ran at once
    due = cache.get(SCHEDULED_KEY)  # when the scheduled run starts (epoch seconds)
    now = time.time()
    if due is not None and now < float(due) <= now + RECOMPUTE_WINDOW_SECONDS:
        return  # it starts within the window anyway
    # A run already due was held by the backlog (``recompute_hold``), or waits behind it on
    # a busy worker: the marks are all in, so it goes now rather than at its next look.
    countdown = 0 if due is not None and float(due) <= now else RECOMPUTE_WINDOW_SECONDS
    if cache.add(SOON_KEY, 1, timeout=RECOMPUTE_WINDOW_SECONDS):
        jobs.queue(PENDING_TASK, countdown=countdown)


def recompute_hold(seconds: float = RECOMPUTE_HOLD_MAX_SECONDS) -> None:
    """The caller is working through a backlog that will mark more accounts within
    ``seconds`` (a processing task that left signals queued behind it): a run falling due
    meanwhile waits for the backlog, up to RECOMPUTE_HOLD_MAX_SECONDS, so that a burst is
    recomputed once at its end rather than once more per window while it is processed."""
    cache.set(HOLD_KEY, 1, timeout=max(1, int(seconds)))


def recompute_release() -> None:
    """The caller's backlog is done: a held run goes ahead at its next look."""
    cache.delete(HOLD_KEY)


def recompute_wait() -> float:
    """Seconds a due run should wait before looking again (0: run now): while a backlog
    holds it (``recompute_hold``), never past RECOMPUTE_HOLD_MAX_SECONDS since it was due."""
    if jobs.runs_eagerly() or not cache.get(HOLD_KEY):
        return 0.0
    cache.add(HELD_SINCE_KEY, time.time(), timeout=RECOMPUTE_HOLD_MAX_SECONDS + 60)
    since = cache.get(HELD_SINCE_KEY) or time.time()
    if time.time() - float(since) >= RECOMPUTE_HOLD_MAX_SECONDS:
        return 0.0
    return RECOMPUTE_HOLD_POLL_SECONDS


def recompute_pending(limit: int = CHUNK) -> tuple[int, bool]:
    """Recompute up to ``limit`` pending accounts (one vectorised chunk of the recompute);
    return (done, more_left)."""
    cache.delete(SCHEDULED_KEY)  # a mark from now on schedules the next run
    cache.delete(HELD_SINCE_KEY)
    started = clock.now()
    began = time.time()
    ids = list(
        PendingRecompute.objects.order_by("requested_at").values_list("account_id", flat=True)[
            :limit
        ]
    )
    if not ids:
        return 0, False
    recompute(ids)
    # A request that arrived during the run stays pending for the next one.
    PendingRecompute.objects.filter(account_id__in=ids, requested_at__lte=started).delete()
    ended = time.time()
    cache.set(NEXT_RUN_KEY, ended + RECOMPUTE_SPACING * (ended - began), timeout=3600)
    return len(ids), PendingRecompute.objects.exists()
