"""Insights' handlers of domain events (csrisk/events.py)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

logger = logging.getLogger(__name__)


def on_measures_computed(
    sender: Any, *, account_ids: list[int], rows: pd.DataFrame, at: dt.datetime, **kwargs: Any
) -> None:
    """A recompute committed: score the renewal risk of its accounts from the measure rows it
    just computed (no second run of the measures), and keep the executive summary's
    findings from them. A failure is logged, never raised: the colours are committed, and
    the next recompute or training scores again (until then the summary shows the findings
    of the recompute before)."""
    from insights.findings import findings_record
    from insights.risk.services import risk_score

    try:
        risk_score(account_ids, measured=rows, now=at)
    except Exception:
        logger.exception("renewal-risk scoring after a recompute failed")
    try:
        findings_record(account_ids, rows, at)
    except Exception:
        logger.exception("keeping the summary's findings after a recompute failed")
