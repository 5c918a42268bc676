"""Processing stored signals into facts: ``signals_process`` (the ``ingest`` queue's task, or
the sweeper) turns pending signals into tickets, people changes, competitor events, usage
and sentiment with upserts keyed by (source, external_id), marks them processed in the same
transaction, runs the rules, and asks scorecards for a coalesced recompute. Running it twice
changes nothing. ``publish_processing`` queues it by the task's name (``csrisk.jobs``)."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.core.cache import cache
from django.db import DataError, IntegrityError, transaction
from django.db.models import F

from accounts.models import CompetitorEvent, SentimentResponse, Ticket, UsageSnapshot
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import clock, jobs
from csrisk.db import among, upsert_rows
from scorecards.services import (
    recompute_hold,
    recompute_pending_soon,
    recompute_release,
    request_recompute,
)
from signals import rules
from signals.choices import Kind, SignalStatus
from signals.models import Signal
from signals.services import backfills

log = logging.getLogger(__name__)

PROCESS_CHUNK = 1000
# Pending signals one queued task takes in all (its own first, then the oldest others).
PROCESS_BACKLOG = 5000
PROCESS_TASK = "signals.tasks.process_signals_task"
BAD_DATA = (IntegrityError, DataError, ValueError, KeyError, TypeError, AttributeError)
# What processing and the rules read of a signal: a whole row built 27,000 model instances'
# worth of fields for 20,000 signals (a tenth of processing them, profiled).
APPLIED_FIELDS = (
    "pk",
    "source",
    "external_id",
    "kind",
    "account_id",
    "occurred_at",
    "source_updated_at",
    "payload",
    "backfill_id",
)


# With a broker, one processing task waits at a time: it takes the pending signals, oldest
# first, up to PROCESS_BACKLOG, and one that stops at that bound queues the next. A burst of
# 40 requests is then a handful of tasks, not 40 that mostly find their signals done (~30 ms
# each on the worker every signal waits behind). The key is dropped when the task starts;
# it lapses after QUEUED_SECONDS should the message be lost (the sweeper covers that too).
QUEUED_KEY = "csrisk:signals:process-queued"
QUEUED_SECONDS = 30


def publish_processing(ids: Sequence[int]) -> None:
    """Queue processing; if the broker is down the rows wait for the sweeper (they are
    committed already), so the sender's 202 stays true. Without a broker (eager mode) each
    chunk of ``ids`` is processed here, at once."""
    if not ids:
        return
    if jobs.runs_eagerly():
        for start in range(0, len(ids), PROCESS_CHUNK):
            if not _queue_task(list(ids[start : start + PROCESS_CHUNK])):
                return
        return
    if _claim_queue():
        _queue_task(list(ids[:PROCESS_CHUNK]))


def _claim_queue() -> bool:
    """True when no processing task is waiting (this caller queues one)."""
    try:
        return bool(cache.add(QUEUED_KEY, 1, timeout=QUEUED_SECONDS))
    except Exception:  # the cache (Redis) down: queue anyway, the broker will tell
        return True


def processing_started() -> None:
    """The queue's task started: signals stored from now on queue the next one."""
    try:
        cache.delete(QUEUED_KEY)
    except Exception:
        log.warning("could not clear the processing queue's mark")


def queue_more_processing() -> None:
    """More is pending than the running task takes: queue one more task (unless one is
    waiting), which another worker may take side by side (``skip_locked``)."""
    if not jobs.runs_eagerly() and _claim_queue():
        _queue_task([])


def _queue_task(ids: list[int]) -> bool:
    try:
        jobs.queue(
            PROCESS_TASK,
            ids,
            # Celery would otherwise build a repr of the ids for its logs (for 500, a fifth
            # of the cost of publishing, measured).
            argsrepr=f"[<{len(ids)} signal ids from {ids[0] if ids else '-'}>]",
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
        return True
    except Exception:  # any broker failure: the sweeper picks them up
        log.warning("could not queue %d signals; the sweeper will process them", len(ids))
        if not jobs.runs_eagerly():
            processing_started()  # the next store tries again
        return False


def signals_process_queued(ids: Sequence[int], backlog: int = PROCESS_BACKLOG) -> int:
    """The queue's task: these signals, then the oldest pending others, up to ``backlog``
    in all (``signals_process``); with more than that pending, one more task is queued
    first, for another worker."""
    processing_started()
    beyond = Signal.objects.filter(status=SignalStatus.PENDING).order_by("pk")
    if beyond.values("pk")[backlog : backlog + 1].exists():
        queue_more_processing()
    return signals_process(ids, backlog=backlog)


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def signals_process(ids: Iterable[int], *, backlog: int = 0) -> int:
    """Turn pending signals into facts, exactly once in effect; return how many.

    ``backlog`` (the queue's task): also take other pending signals, oldest first, until
    that many are done in all, so that a burst of requests shares a few large batches'
    fixed costs (the rules' reads, the marks, a transaction) instead of paying them per
    request; the tasks queued behind find their signals done and take what came since."""
    ids = list(ids)
    done = 0
    for start in range(0, len(ids), PROCESS_CHUNK):
        chunk = ids[start : start + PROCESS_CHUNK]
        top_up = min(PROCESS_CHUNK, backlog - done) if backlog else 0
        done += _process_safely(chunk, top_up)
    while done < backlog:
        taken = _process_safely([], min(PROCESS_CHUNK, backlog - done))
        if not taken:
            break
        done += taken
    log.info("processed %d of %d signals", done, len(ids), extra={"signals": len(ids)})
    more = bool(backlog or done) and Signal.objects.filter(status=SignalStatus.PENDING).exists()
    if backlog:
        # Stopped at its bound with more queued: the task behind goes on with the backlog,
        # and the recompute of the accounts it marks waits for its end (a burst is
        # recomputed once); a task that leaves the queue empty lets a held run go.
        if done >= backlog and more:
            recompute_hold()
            queue_more_processing()
        else:
            recompute_release()
    if done and not more:
        # The backlog is processed: its accounts' recompute need not wait out the spacing
        # that kept the worker processing while signals queued (scorecards.services.pending).
        recompute_pending_soon()
    return done


def _process_safely(ids: list[int], top_up: int) -> int:
    taken: list[int] = []
    try:
        return _process_chunk(ids, top_up, taken)
    except BAD_DATA:
        # One bad signal must not hold up the rest (nor loop in the sweeper forever):
        # process one by one and mark the ones that fail. Transient errors (the
        # database away) are not caught here: the task fails and the sweeper retries.
        log.exception("a chunk of %d signals failed; processing one by one", len(taken))
        done = 0
        for pk in taken:
            try:
                done += _process_chunk([pk], 0, [])
            except BAD_DATA as exc:
                Signal.objects.filter(pk=pk, status=SignalStatus.PENDING).update(
                    status=SignalStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:300]
                )
        return done


@transaction.atomic
def _process_chunk(ids: list[int], top_up: int, taken: list[int]) -> int:
    """Process the pending ones of ``ids``, topped up to ``top_up`` with the oldest other
    pending signals; ``taken`` receives the ids this took (for the one-by-one retry)."""
    # Locked, and skipped by anyone else holding them: two workers never both apply one.
    pending = (
        Signal.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=SignalStatus.PENDING, account__isnull=False)
        .only(*APPLIED_FIELDS)
    )
    signals = list(among(pending, "pk", ids).order_by("pk")) if ids else []
    if top_up > len(signals):
        mine = [s.pk for s in signals]
        others = pending.exclude(pk__in=mine) if mine else pending
        signals += others.order_by("pk")[: top_up - len(signals)]
    taken += [s.pk for s in signals]
    if not signals:
        return 0
    now = clock.now()
    # History (a backfill's past) first, settled quietly, then news (signals.services.backfills).
    for group, history in backfills.split(signals):
        _apply(group, now, history=history)
    return len(signals)


def _apply(signals: list[Signal], now: dt.datetime, *, history: bool) -> None:
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_kind[s.kind].append(s)
    _apply_tickets(by_kind[Kind.TICKET])
    _apply_competitors(by_kind[Kind.COMPETITOR])
    _apply_sentiment(by_kind[Kind.SENTIMENT])
    _apply_usage(by_kind[Kind.USAGE])
    people = _apply_people(by_kind[Kind.ORG_CHANGE], now)
    among(Signal.objects.all(), "pk", [s.pk for s in signals]).update(
        status=SignalStatus.PROCESSED, processed_version=F("version"), processed_at=now, error=""
    )
    if history:
        backfills.settle(signals, people=people, now=now)
        return
    rules.evaluate(signals, people=people, now=now)
    request_recompute({s.account_id for s in signals})


def _upsert(model: type, columns: tuple[str, ...], rows: list[tuple], unique: list[str]) -> None:
    # Plain tuples through one INSERT … ON CONFLICT a batch: building a model instance per
    # fact cost as much as the rest of processing the batch (docs/performance.md).
    if rows:
        upsert_rows(model, columns, rows, unique=unique)


TICKET_COLUMNS = (
    "account_id",
    "source",
    "external_id",
    "kind",
    "subject",
    "priority",
    "status",
    "tags",
    "requester_group",
    "opened_at",
    "solved_at",
)


def _apply_tickets(signals: list[Signal]) -> None:
    latest: dict[tuple[str, str], tuple] = {}
    for s in signals:
        a = s.payload["attributes"]
        latest[(s.source, s.external_id)] = (
            s.account_id,
            s.source,
            s.external_id,
            a.get("type") or "support",
            a.get("subject", "")[:300],
            a.get("priority", "normal"),
            a.get("status", "new"),
            a.get("tags", []),
            a.get("requester_group", ""),
            s.occurred_at,
            _ts(a.get("solved_at"))
            or (s.source_updated_at if a.get("status") in ("solved", "closed") else None),
        )
    _upsert(Ticket, TICKET_COLUMNS, list(latest.values()), ["source", "external_id"])


def _apply_competitors(signals: list[Signal]) -> None:
    rows = {
        (s.source, s.external_id): (
            s.account_id,
            s.payload["attributes"]["competitor"],
            s.payload["attributes"]["activity"],
            s.payload["attributes"].get("note", ""),
            s.occurred_at,
            s.source,
            s.external_id,
        )
        for s in signals
    }
    _upsert(
        CompetitorEvent,
        ("account_id", "competitor", "activity", "note", "occurred_at", "source", "external_id"),
        list(rows.values()),
        ["source", "external_id"],
    )


def _apply_sentiment(signals: list[Signal]) -> None:
    rows = {
        (s.source, s.external_id): (
            s.account_id,
            s.source,
            s.external_id,
            s.occurred_at,
            s.payload["attributes"].get("nps"),
            s.payload["attributes"].get("csat"),
            s.payload["attributes"].get("comment", ""),
        )
        for s in signals
    }
    _upsert(
        SentimentResponse,
        ("account_id", "source", "external_id", "responded_at", "nps", "csat", "comment"),
        list(rows.values()),
        ["source", "external_id"],
    )


def _apply_usage(signals: list[Signal]) -> None:
    rows: dict[tuple[int, dt.date], tuple] = {}
    for s in sorted(signals, key=lambda s: s.occurred_at):
        day = s.occurred_at.date()
        week = day - dt.timedelta(days=day.weekday())
        a = s.payload["attributes"]
        rows[(s.account_id, week)] = (
            s.account_id,
            week,
            a["active_users"],
            a["licensed_users"],
            a.get("adoption"),
        )
    _upsert(
        UsageSnapshot,
        ("account_id", "week", "active_users", "licensed_users", "adoption"),
        list(rows.values()),
        ["account", "week"],
    )


def _apply_people(signals: list[Signal], now: dt.datetime) -> dict[int, rules.Person]:
    """People changes, recorded by ``accounts.services.people_changes_record`` (the one
    path every people change takes); returns signal pk → person (the contact, and the
    title before and after, for the rules)."""
    recorded = people_changes_record(
        [
            PeopleChangeIn(
                account_id=s.account_id,
                change=s.payload["attributes"]["change"],
                occurred_at=s.occurred_at,
                person=s.payload["attributes"].get("contact") or {},
                old_title=s.payload["attributes"].get("old_title") or "",
                new_title=s.payload["attributes"].get("new_title") or "",
                from_company=s.payload["attributes"].get("from_company") or "",
                source=s.source,
                external_id=s.external_id,
            )
            for s in signals
        ]
    )
    return {
        s.pk: rules.Person(r.contact, r.old_title, r.new_title, r.record.pk if r.record else None)
        for s, r in zip(signals, recorded, strict=True)
    }
