"""Writes of the signals app: store incoming signals, turn them into facts, match orgs.

The path of a signal (STYLE.md, "How data flows"), one module per concept:

- ``storage`` — ``signals_store`` checks and stores a batch in the caller's transaction (the
  API commits it before answering 202) and, after commit, queues processing. New signals go
  in by PostgreSQL's COPY (``copying``, on ``csrisk.db``'s COPY engine) or a multi-row
  INSERT, item by item when the database refuses a value; a key stored before is compared
  and may get a new version (``versions``). ``rows`` is the checked row and its SQL;
  ``outcomes`` what each item is answered.
- ``processing`` — ``signals_process`` (a Celery task on the ``ingest`` queue, queued by name
  with ``publish_processing``, or the sweeper) turns pending signals into facts — tickets,
  people changes, competitor events, usage, sentiment — with upserts keyed by (source,
  external_id), marks them processed in the same transaction, runs the rules, and asks
  scorecards for a coalesced recompute. Running it twice changes nothing: that is what makes
  retries and the sweeper safe.
- ``matching`` — signals of an organisation nobody knows are parked (``unmatched``), never
  dropped; ``org_match`` (a person) or an account gaining that external id
  (``rematch_unmatched``) releases them.
- ``sweeping`` — ``signals_sweep``: what a lost message left pending; ``health`` — refused
  items counted per source and day; ``uploads`` — CSV uploads, previewed then committed.
- ``backfills`` — imports of history (``?backfill=true``, a CSV marked as history,
  ``manage.py import_signals``): which signals are history (``split``) and how they are
  settled without alerting (``settle``); docs/signals.md, "Backfills".
- ``hubspot`` — HubSpot webhook events → people changes (the contact–company associations
  kept in between); ``usage`` — Segment calls rolled up into daily usage per organisation,
  de-duplicated by message id, never a row per call.

The names below are re-exported so ``from signals.services import signals_store`` keeps
working; inside the package, import from the concept module.
"""

from signals.services.health import rejection_record
from signals.services.hubspot import hubspot_signals
from signals.services.matching import org_match, rematch_unmatched, resolve_orgs
from signals.services.outcomes import ACCEPTED, DUPLICATE, ITEM_ERRORS, REJECTED, Outcome
from signals.services.processing import (
    BAD_DATA,
    PROCESS_BACKLOG,
    PROCESS_CHUNK,
    PROCESS_TASK,
    publish_processing,
    signals_process,
    signals_process_queued,
)
from signals.services.rows import Row
from signals.services.storage import INSERT_CHUNK, MAX_BATCH, signals_store
from signals.services.sweeping import IDEMPOTENCY_TTL, SWEEP_GRACE, signals_sweep
from signals.services.uploads import signal_import_commit, signal_import_create
from signals.services.usage import UsageAnswer, usage_record, usage_sweep
from signals.services.versions import stored_senders

__all__ = [
    "ACCEPTED",
    "BAD_DATA",
    "DUPLICATE",
    "IDEMPOTENCY_TTL",
    "INSERT_CHUNK",
    "ITEM_ERRORS",
    "MAX_BATCH",
    "PROCESS_BACKLOG",
    "PROCESS_CHUNK",
    "PROCESS_TASK",
    "REJECTED",
    "SWEEP_GRACE",
    "Outcome",
    "Row",
    "UsageAnswer",
    "hubspot_signals",
    "org_match",
    "publish_processing",
    "rejection_record",
    "rematch_unmatched",
    "resolve_orgs",
    "signal_import_commit",
    "signal_import_create",
    "signals_process",
    "signals_process_queued",
    "signals_store",
    "signals_sweep",
    "stored_senders",
    "usage_record",
    "usage_sweep",
]
