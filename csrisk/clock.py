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
