"""The signals app's readings for /metrics (csrisk.metrics), taken at each scrape from the
database, so every process serving the scrape tells the same."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from csrisk import clock
from signals import selectors


def processing_lag() -> Iterable[Metric]:
    waiting, oldest = selectors.processing_backlog()
    lag = max((clock.now() - oldest).total_seconds(), 0.0) if oldest else 0.0
    yield GaugeMetricFamily(
        "csrisk_signal_processing_lag_seconds",
        "Age of the oldest signal waiting to be processed (0 when none waits).",
        value=lag,
    )
    yield GaugeMetricFamily(
        "csrisk_signals_pending", "Signals stored and waiting to be processed.", value=waiting
    )
