"""The one clock every service reads, so a test can move time for the whole app.

Tests use ``clock.frozen(dt)``; code calls ``clock.now()`` / ``clock.today()`` instead of
``timezone.now()`` wherever time drives a rule (deadlines, cadences, windows).
"""

import contextlib
import datetime as dt
from collections.abc import Iterator

from django.utils import timezone

_frozen: dt.datetime | None = None


def now() -> dt.datetime:
    return _frozen if _frozen is not None else timezone.now()


def today() -> dt.date:
    return timezone.localdate(now())


@contextlib.contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Fix the clock at ``at`` (aware) for the duration of the block."""
    global _frozen
    previous, _frozen = _frozen, at
    try:
        yield
    finally:
        _frozen = previous


def add_business_days(start: dt.datetime, days: float) -> dt.datetime:
    """``start`` plus ``days`` working days (Monday–Friday), keeping the time of day.

    A deadline of one business day set on Friday afternoon falls on Monday afternoon; one
    set on Saturday counts from Monday morning's equivalent (the weekend does not count).
    Fractions count as hours of a 24-hour business day (0.5 → 12 hours).
    """
    at = start
    while at.weekday() >= 5:  # a weekend start counts from the next Monday, same time
        at += dt.timedelta(days=1)
    whole = int(days)
    while whole > 0:
        at += dt.timedelta(days=1)
        if at.weekday() < 5:
            whole -= 1
    at += dt.timedelta(days=days - int(days))
    while at.weekday() >= 5:
        at += dt.timedelta(days=1)
    return at
