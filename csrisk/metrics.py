"""Prometheus metrics, served at ``/metrics`` (csrisk.views.metrics).

Two kinds, each counted where it is right (docs/operations.md, "Logs, errors and metrics"):

- **Events** (requests, signals accepted or rejected, recompute durations, delivery
  failures) are counted in the process where they happen. gunicorn runs several workers and
  Celery runs in other processes, so with ``PROMETHEUS_MULTIPROC_DIR`` set every process
  writes its counts to a file in that folder and a scrape adds them up (prometheus_client's
  multiprocess mode). The files are named by host and pid, so web and worker containers may
  share one volume. Without the folder the process's own counts are served: right for the
  embedded default, where one process serves the pages and runs the background work.
- **States** (the processing lag, queue depths) are read at scrape time from the database
  and Redis: whichever process answers the scrape sees the same truth. The apps register
  their readings (``register_reading``) so this module imports none of them.

A scrape costs a constant number of queries whatever the book's size.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    values,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

log = logging.getLogger(__name__)


def _process_identifier() -> str:
    # Containers reuse small pids: the host name keeps two containers' files apart on a
    # shared volume ("_" separates the parts of the file name, so none in it).
    return f"{socket.gethostname().replace('_', '-')}-{os.getpid()}"


MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
if MULTIPROCESS:
    values.ValueClass = values.MultiProcessValue(_process_identifier)

CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "csrisk_http_requests",
    "HTTP requests answered, by method, route name and status class.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "csrisk_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route name.",
    ["method", "route"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
SIGNALS = Counter(
    "csrisk_signals_ingested",
    "Signals received, by source and outcome (accepted, duplicate, rejected).",
    ["source", "outcome"],
)
RECOMPUTE = Histogram(
    "csrisk_recompute_duration_seconds",
    "Time a scorecard recompute took (a pending batch, a chunk of the nightly run, or one "
    "account).",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
DELIVERY_FAILURES = Counter(
    "csrisk_notification_delivery_failures",
    "Notifications that failed for good, by channel (email, chat, webhook): a permanent "
    "error, or a transient one past its last retry.",
    ["channel"],
)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def http_observed(method: str, route: str, status: int, seconds: float) -> None:
    method = method if method in _METHODS else "other"
    HTTP_REQUESTS.labels(method, route, f"{status // 100}xx").inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


def signals_counted(source: str, outcome: str, count: int = 1) -> None:
    if count:
        SIGNALS.labels(source[:40] or "unknown", outcome).inc(count)


def delivery_failed(channel: str) -> None:
    DELIVERY_FAILURES.labels(channel).inc()


@contextmanager
def recompute_timed() -> Iterator[None]:
    began = time.perf_counter()
    try:
        yield
    finally:
        RECOMPUTE.observe(time.perf_counter() - began)


# --- Readings at scrape time ----------------------------------------------------------------

Reading = Callable[[], Iterable[Metric]]
_readings: list[Reading] = []


def register_reading(reading: Reading) -> None:
    """Add a function that yields metric families read at each scrape (one or two queries:
    a scrape must stay cheap). Apps register theirs in ``AppConfig.ready()``."""
    if reading not in _readings:
        _readings.append(reading)


def queue_depths() -> Iterable[Metric]:
    """Messages waiting in each Celery queue (Redis LLEN, one round trip). Without a broker
    the work runs in-process at once: nothing waits, every queue reads 0."""
    from django.conf import settings

    queues = sorted({settings.CELERY_TASK_DEFAULT_QUEUE} | _routed_queues())
    family = GaugeMetricFamily(
        "csrisk_queue_depth", "Messages waiting in a Celery queue.", labels=["queue"]
    )
    depths = dict.fromkeys(queues, 0)
    if settings.REDIS_URL:
        depths = _redis_depths(settings.CELERY_BROKER_URL, queues)
    for queue in queues:
        family.add_metric([queue], depths[queue])
    yield family


def _routed_queues() -> set[str]:
    from django.conf import settings

    return {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}


# kombu's Redis transport keeps a queue's prioritised messages in lists named
# queue + "\x06\x16" + priority beside the plain one (priorities 3, 6, 9 by default).
_PRIORITY_SEP = "\x06\x16"
_PRIORITIES = (3, 6, 9)


def _redis_depths(url: str, queues: list[str]) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in queues:
            pipe.llen(queue)
            for priority in _PRIORITIES:
                pipe.llen(f"{queue}{_PRIORITY_SEP}{priority}")
        lengths = pipe.execute()
    finally:
        client.close()
    step = 1 + len(_PRIORITIES)
    return {q: sum(lengths[i * step : (i + 1) * step]) for i, q in enumerate(queues)}


register_reading(queue_depths)


class _Scrape:
    """What one scrape serves: the event counts (this process's, or every process's in
    multiprocess mode) and the readings."""

    def __init__(self) -> None:
        if MULTIPROCESS:
            self.events = CollectorRegistry()
            MultiProcessCollector(self.events)
        else:
            self.events = REGISTRY

    def collect(self) -> Iterator[Metric]:
        yield from self.events.collect()
        for reading in _readings:
            try:
                families = list(reading())
            except Exception:  # Redis or the database away: serve the rest, say why
                log.warning("metrics reading %s failed", reading.__name__, exc_info=True)
                continue
            yield from families


def scrape() -> bytes:
    return generate_latest(_Scrape())  # type: ignore[arg-type]
