"""Writes for scorecards, one module per concept:

- ``recomputation`` — ``recompute``: run the measures, write what changed, emit colour changes.
- ``pending`` — ``request_recompute(account_ids)``: facts changed; recompute soon, coalesced.
- ``pressure`` — ``cta_pressure_set(account_id=…, area=…, color=…, reasons=…)``, the interface
  the ctas app calls: which open risk CTAs hold an area at least yellow (open) or red
  (flagged); ``color=None`` when none is open any more. The account is recomputed at once.
- ``overrides`` — set, clear and expire a person's colour for an area.
- ``runs`` — ``recompute_run_start``: a full recompute as a group of bounded chunks that any
  number of workers share (``recompute_chunk``, ``requeue_stale_chunks``).

The names below are re-exported so ``from scorecards.services import recompute`` keeps
working; inside the package, import from the concept module.
"""

from scorecards.services.overrides import expire_overrides, override_clear, override_set
from scorecards.services.pending import (
    RECOMPUTE_WINDOW_SECONDS,
    SCHEDULED_KEY,
    recompute_hold,
    recompute_pending,
    recompute_pending_soon,
    recompute_release,
    request_recompute,
)
from scorecards.services.pressure import cta_pressure_set, cta_pressures_set
from scorecards.services.recomputation import (
    AREA_SCORE_COLUMNS,
    AREA_STATE,
    CARD_STATE,
    CHUNK,
    COLOR_CHANGE_COLUMNS,
    CONCURRENT_READS,
    SCORECARD_COLUMNS,
    RecomputeReport,
    recompute,
)
from scorecards.services.runs import (
    account_chunks,
    recompute_chunk,
    recompute_run_start,
    requeue_stale_chunks,
)

__all__ = [
    "AREA_SCORE_COLUMNS",
    "AREA_STATE",
    "CARD_STATE",
    "CHUNK",
    "COLOR_CHANGE_COLUMNS",
    "CONCURRENT_READS",
    "RECOMPUTE_WINDOW_SECONDS",
    "SCHEDULED_KEY",
    "SCORECARD_COLUMNS",
    "RecomputeReport",
    "account_chunks",
    "cta_pressure_set",
    "cta_pressures_set",
    "expire_overrides",
    "override_clear",
    "override_set",
    "recompute",
    "recompute_chunk",
    "recompute_hold",
    "recompute_pending",
    "recompute_pending_soon",
    "recompute_release",
    "recompute_run_start",
    "request_recompute",
    "requeue_stale_chunks",
]
