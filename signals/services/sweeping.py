"""The sweeper (beat, every 30 s): process what a lost message left pending, release parked
signals whose organisation is now known, forget expired idempotency keys and the message
ids older than the usage rollup's de-duplication window."""

from __future__ import annotations

import datetime as dt

from csrisk import clock
from signals.choices import SignalStatus
from signals.models import IdempotencyRecord, Signal
from signals.services.matching import rematch_unmatched
from signals.services.processing import signals_process
from signals.services.usage import usage_sweep

SWEEP_GRACE = dt.timedelta(seconds=10)
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


def signals_sweep(limit: int = 2000) -> tuple[int, bool]:
    """Process what a lost message left behind; release parked signals whose organisation
    is now known. Returns (processed, more_left)."""
    rematch_unmatched()
    IdempotencyRecord.objects.filter(created_at__lt=clock.now() - IDEMPOTENCY_TTL).delete()
    usage_sweep()
    cutoff = clock.now() - SWEEP_GRACE
    ids = list(
        Signal.objects.filter(status=SignalStatus.PENDING, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = signals_process(ids)
    return done, len(ids) == limit
