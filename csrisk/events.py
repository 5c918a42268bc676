"""Domain events: how news travels against the import arrows (see STYLE.md).

Senders call ``emit_on_commit`` inside their transaction; receivers (each app's
receivers.py) run after the commit, so nobody reacts to a change that was rolled back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.dispatch import Signal

# A scorecard colour changed: account_id, area ("overall" or an area code), old, new, at,
# cause, reason. A change whose cause is ``BACKFILL`` is history, not news (``is_news``).
color_changed = Signal()

# The cause of a change that an import of history made (signals.backfills): recorded in the
# colour history like any other, told to nobody.
BACKFILL = "backfill"


def is_news(cause: str) -> bool:
    """Whether a change with this cause is news people are told about: every change is,
    except what a backfill brought (docs/signals.md, "Backfills"). The one place alerts ask."""
    return cause != BACKFILL


# An override ran out and the computed colour is back: account_id, area, color, set_by_id.
override_expired = Signal()
# A recompute ran the measures, after its commit: account_ids, rows (the measure rows as a
# DataFrame, ``scorecards.measures.MEASURE_COLUMNS`` plus account_id), at. Receivers reuse
# the rows instead of running the measures again (the renewal-risk scoring).
measures_computed = Signal()
# Accounts were created or changed (ARR, tier, stage…), after commit: account_ids (None:
# many, e.g. an import — look at all of them).
accounts_changed = Signal()
# Sent inside the sender's transaction, so what receivers write commits or rolls back with
# the change itself (a flag and its level-1 escalation are one fact):
# a CTA was flagged: cta_id, by_id, reason
cta_flagged = Signal()
# a CTA stopped needing help (unflagged or closed): cta_id, by_id, reason, closed
cta_released = Signal()
# a comment was added to a CTA's chatter: cta_id, comment_id, by_id, mentioned_ids
comment_added = Signal()
# an escalation took a step (escalation.services.timeline.record_step): escalation_id,
# cta_id, account_id, action (an escalation.choices.StepAction), from_level, to_level,
# level (where it stands now), reason, by_id, at
escalation_step = Signal()
# a sponsor logged a check-in: checkin_id, cta_id, account_id, by_id, sentiment, risks
# (how many found), at
checkin_logged = Signal()
# renewal-risk predictions moved to another band: changes (a list of {account_id,
# old_band, new_band, old_probability, probability, expected_loss}), model_id, at
risk_changed = Signal()


def emit(signal: Signal, **payload: Any) -> None:
    """Tell receivers now, inside the caller's transaction (see the events above)."""
    signal.send(sender=None, **payload)


def emit_on_commit(signal: Signal, **payload: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=None, **payload))


def emit_all_on_commit(signal: Signal, payloads: list[dict[str, Any]]) -> None:
    """Send ``signal`` once per payload after the commit, as one batch: what receivers
    ``coalesce`` (their follow-up work) is done once for the whole batch, not per payload
    (a recompute that moves 3,000 colours queues one lane refresh, not 3,000)."""
    if payloads:
        transaction.on_commit(lambda: _send_batch(signal, payloads))


def _send_batch(signal: Signal, payloads: list[dict[str, Any]]) -> None:
    with batch():
        for payload in payloads:
            signal.send(sender=None, **payload)


_local = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Within it, ``coalesce`` gathers; on leaving it, each key's work runs once with
    every item gathered under it. Nested batches belong to the outermost."""
    if getattr(_local, "pending", None) is not None:
        yield
        return
    _local.pending = {}
    try:
        yield
        pending = _local.pending
    finally:
        _local.pending = None
    for flush, items in pending.values():
        flush(items)


def coalesce(key: Hashable, flush: Callable[[list[Any]], None], item: Any) -> None:
    """Do ``flush([item])`` now, or — inside a ``batch`` — once at its end with every item
    gathered under ``key`` (the first ``flush`` given for the key is the one called)."""
    pending = getattr(_local, "pending", None)
    if pending is None:
        flush([item])
        return
    pending.setdefault(key, (flush, []))[1].append(item)
