"""Periodic work without Celery beat: the embedded default (no REDIS_URL) runs the same
CELERY_BEAT_SCHEDULE entries on a daemon thread inside the web process (``make demo``)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from celery.schedules import maybe_schedule
from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.db import close_old_connections

log = logging.getLogger(__name__)


def run_due(last_run: dict[str, dt.datetime], now: dt.datetime) -> list[str]:
    """Run every schedule entry that is due since its last run; return their names.

    An entry seen for the first time counts as just run, so nothing fires at start-up.
    """
    ran = []
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        previous = last_run.setdefault(name, now)
        if not maybe_schedule(entry["schedule"]).is_due(previous).is_due:
            continue
        try:
            # Task names are their dotted paths; autodiscovery may not have imported them.
            symbol_by_name(entry["task"]).apply()
            ran.append(name)
        except Exception:
            log.exception("periodic task %s failed", name)
        finally:
            last_run[name] = now
    return ran


def start(interval_seconds: float = 15.0) -> threading.Thread:
    """Start the scheduler thread (daemon: it ends with the server)."""
    from django.utils import timezone

    stop = threading.Event()
    last_run: dict[str, dt.datetime] = {}

    def loop() -> None:
        while not stop.wait(interval_seconds):
            close_old_connections()  # this thread's connection, like a request's
            run_due(last_run, timezone.now())
            close_old_connections()

    thread = threading.Thread(target=loop, name="csrisk-periodic", daemon=True)
    thread.start()
    return thread
