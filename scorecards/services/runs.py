"""A full recompute spread over any number of workers: a run of bounded chunks.

``recompute_run_start`` splits the live accounts into chunks of at most
``SCORECARD_RECOMPUTE_CHUNK`` accounts (``account_chunks``), records them
(``RecomputeRun`` / ``RecomputeChunk``) and queues one task per chunk as one Celery group;
every worker consuming the ``recompute`` queue takes chunks from it. ``recompute_chunk``
is what a task runs. The database, not the broker, knows what is done:

- a chunk is claimed with a conditional ``UPDATE`` and a lease, so two deliveries of one
  message never recompute it side by side;
- a chunk is marked done with a conditional ``UPDATE``, once; the run is finished by the
  chunk that marks the last one (a chord's final step, without a result backend);
- a chunk that died (worker killed: the message is redelivered, ``acks_late``) is taken
  again once its lease ran out. Re-running a chunk writes nothing twice: ``recompute``
  writes only the rows whose digest moved, and the first run already wrote them;
- ``requeue_stale_chunks`` (beat) resends the chunks a lost message left undone.

Without a broker (eager mode) the group runs at once, in this process, chunk after chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import pairwise

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from csrisk import clock, jobs
from scorecards import selectors
from scorecards.models import RecomputeChunk, RecomputeRun
from scorecards.services.recomputation import recompute

CHUNK_TASK = "scorecards.tasks.recompute_chunk_task"
# How long a worker holds a chunk: far above a chunk's minutes at the worst, so a second
# delivery of a live chunk waits; a chunk whose worker died is taken again after it.
LEASE = dt.timedelta(minutes=10)
# A chunk tried this many times is left for a person to look at (the run stays unfinished).
MAX_ATTEMPTS = 5


def account_chunks(ids: Sequence[int], size: int) -> list[list[int]]:
    """``ids`` in order, cut into as few consecutive chunks of at most ``size`` (>= 1) as
    can be, of sizes that differ by at most one: a run lasts as long as its longest chunk,
    so 8,582 accounts in chunks of 5,000 are two of 4,291, not 5,000 and 3,582."""
    if size < 1:
        raise ValueError("a chunk holds at least one account")
    ordered = sorted(ids)
    count = -(-len(ordered) // size)  # ceil
    bounds = [len(ordered) * i // count for i in range(count + 1)] if count else [0]
    return [ordered[a:b] for a, b in pairwise(bounds)]


def recompute_run_start(*, cause: str = "measures", size: int | None = None) -> RecomputeRun:
    """Record a full recompute of every live account in chunks and queue them as a group.

    Messages carry only a chunk's id: a chunk's accounts are those live with ids in its
    range when it runs, so a message stays small whatever the book's size.
    """
    size = size or settings.SCORECARD_RECOMPUTE_CHUNK
    chunks = account_chunks(selectors.active_account_ids(), size)
    run = RecomputeRun.objects.create(
        created_at=clock.now(),
        cause=cause,
        chunk_size=size,
        accounts=sum(map(len, chunks)),
        finished_at=None if chunks else clock.now(),
    )
    rows = RecomputeChunk.objects.bulk_create(
        [RecomputeChunk(run=run, first_account_id=c[0], last_account_id=c[-1]) for c in chunks]
    )
    # Committed before any worker can look for them (the caller may hold a transaction).
    ids = [r.pk for r in rows]
    if ids:
        transaction.on_commit(lambda: jobs.queue_group(CHUNK_TASK, [(pk,) for pk in ids]))
    return run


def recompute_chunk(chunk_id: int) -> int | None:
    """Recompute one chunk, unless it is done. Return the accounts recomputed (0 when it
    was done already), or None when another worker holds it now (try again later)."""
    now = clock.now()
    claimed = (
        RecomputeChunk.objects.filter(pk=chunk_id, done_at=None)
        .filter(Q(claimed_until=None) | Q(claimed_until__lt=now))
        .update(claimed_until=now + LEASE, attempts=F("attempts") + 1)
    )
    if not claimed:
        done = RecomputeChunk.objects.filter(pk=chunk_id).exclude(done_at=None).exists()
        missing = not RecomputeChunk.objects.filter(pk=chunk_id).exists()
        return 0 if done or missing else None
    chunk = RecomputeChunk.objects.select_related("run").get(pk=chunk_id)
    ids = selectors.active_account_ids_between(chunk.first_account_id, chunk.last_account_id)
    recompute(ids, cause=chunk.run.cause)
    finished = clock.now()
    # Once: a second run of a chunk that died after its commit finds it marked.
    marked = RecomputeChunk.objects.filter(pk=chunk_id, done_at=None).update(
        done_at=finished, accounts=len(ids), claimed_until=None
    )
    if marked and not RecomputeChunk.objects.filter(run_id=chunk.run_id, done_at=None).exists():
        RecomputeRun.objects.filter(pk=chunk.run_id, finished_at=None).update(finished_at=finished)
    return len(ids)


def requeue_stale_chunks() -> int:
    """Resend the undone chunks whose lease ran out, or that were never claimed an hour
    after their run began (a lost message); the sweeper beat runs. Return how many."""
    now = clock.now()
    stale = list(
        RecomputeChunk.objects.filter(
            done_at=None, run__finished_at=None, attempts__lt=MAX_ATTEMPTS
        )
        .filter(
            Q(claimed_until__lt=now)
            | Q(claimed_until=None, run__created_at__lt=now - dt.timedelta(hours=1))
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if stale:
        jobs.queue_group(CHUNK_TASK, [(pk,) for pk in stale])
    return len(stale)
