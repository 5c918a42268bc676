"""Storing a batch of incoming signals (``signals_store``), the first step of a signal's path.

The keys and accounts of the batch are checked and looked up first; the rest of each item
is checked as it is stored. New signals go in at once (``insert_new``: PostgreSQL's COPY,
``copying``, or a multi-row INSERT elsewhere); if the database refuses one value the batch
is stored again item by item, so only that item is rejected. A key stored before is
compared with what is stored (``versions``). Processing is queued after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction

from csrisk import clock
from csrisk.db import gc_paused
from signals import normalise
from signals.choices import SignalStatus
from signals.models import Backfill, Signal
from signals.normalise import Head, Invalid, normalise_head, normalise_rest
from signals.provenance import SYSTEM_SENDER, Sender
from signals.services.backfills import backfill_record, news_record
from signals.services.copying import insert_new_pg
from signals.services.health import count_rejections, first_source, ingest_counted
from signals.services.matching import resolve_orgs
from signals.services.outcomes import (
    ACCEPTED,
    DUPLICATE,
    ITEM_ERRORS,
    REJECTED,
    Outcome,
    refused,
    rejected,
)
from signals.services.processing import publish_processing
from signals.services.rows import COLUMNS, CONFLICT, NEW, RETURNING, Row, row_key
from signals.services.versions import known_signals, update_version

log = logging.getLogger(__name__)

MAX_BATCH = 5000
INSERT_CHUNK = 1000


def signals_store(
    raws: Sequence[Any],
    *,
    default_source: str = "",
    publish: bool = True,
    sender: Sender = SYSTEM_SENDER,
    backfill: Backfill | None = None,
) -> list[Outcome]:
    """Check and store signals; one outcome per item, in order. Call inside a transaction
    (the API's); processing is queued after that transaction commits. Every stored
    version records ``sender``; an item outside the sender's sources or accounts, or a
    version the sender may not replace, is rejected (signals.provenance). With a
    ``backfill``, what is stored is history (signals.services.backfills)."""
    with gc_paused():
        return _store(raws, default_source, publish, sender, backfill)


def _insert_new(
    rows: Iterable[Row], keys: Collection[tuple[str, str]], now: dt.datetime, sender: Sender
) -> list[tuple[Row, int | None]]:
    """Store the rows whose (source, external_id) is not stored yet, once however many
    senders race: the database, not a read-then-write, has the last word (the unique
    index). ``rows`` have distinct keys, all of them among ``keys``. Returns each row with
    its new id, or None where the key was stored before."""
    if connection.vendor == "postgresql":
        return insert_new_pg(rows, keys, now, sender)
    rows = list(rows)
    if not rows:
        return []
    table = connection.ops.quote_name(Signal._meta.db_table)
    ops = connection.ops
    received = ops.adapt_datetimefield_value(now)
    stored: dict[tuple[str, str], int] = {}
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            marks = ", ".join([f"({', '.join(['%s'] * 16)})"] * len(chunk))
            params: list[Any] = []
            for _index, item, account_id, payload, digest, status in chunk:
                upd = item.source_updated_at
                params += [
                    item.source, item.external_id, ops.adapt_datefield_value(item.month),
                    item.kind, account_id, "" if account_id else item.account_ref,
                    ops.adapt_datetimefield_value(item.occurred_at),
                    ops.adapt_datetimefield_value(upd) if upd else None,
                    received, payload, digest, status,
                    sender.via, sender.user_id, sender.label, sender.bound,
                ]  # fmt: skip
            cursor.execute(
                f"WITH v ({COLUMNS}) AS (VALUES {marks}) "
                f"INSERT INTO {table} ({COLUMNS}, version, processed_version, error) "
                f"SELECT {COLUMNS}, 1, 0, '' FROM v WHERE {NEW} {CONFLICT} {RETURNING}",
                params,
            )
            for pk, src, ext in cursor.fetchall():
                stored[(src, ext)] = pk
    return [(row, stored.get(row_key(row))) for row in rows]


def _insert_each(
    rows: list[Row], now: dt.datetime, outcomes: list[Outcome | None], sender: Sender
) -> list[tuple[Row, int | None]]:
    """The slow path after the fast one failed on a value: each row in its own savepoint,
    so the one the database refuses is rejected and the others are stored."""
    out: list[tuple[Row, int | None]] = []
    for row in rows:
        try:
            with transaction.atomic():
                out += _insert_new([row], [row_key(row)], now, sender)
        except ITEM_ERRORS as exc:
            outcomes[row[0]] = refused(row, exc)
    return out


def _store(
    raws: Sequence[Any],
    default_source: str,
    publish: bool,
    sender: Sender,
    backfill: Backfill | None = None,
) -> list[Outcome]:
    now = clock.now()
    outcomes: list[Outcome | None] = [None] * len(raws)
    # First the keys and accounts (a fraction of the checks), so that the stored keys and
    # the accounts can be looked up before the rows go in; the rest of each item is
    # checked as it is stored (``checked``), while PostgreSQL takes the rows before it.
    heads: list[tuple[int, Any, Head]] = []
    for index, raw in enumerate(raws):
        try:
            head = normalise_head(raw, default_source=default_source)
        except Invalid as exc:
            outcomes[index] = rejected(index, raw, str(exc))
            continue
        refusal = sender.source_refusal(head.source)
        if refusal:
            outcomes[index] = Outcome(index, REJECTED, head.external_id, reason=refusal)
        else:
            heads.append((index, raw, head))
    found, existing_ids = resolve_orgs([head for _, _, head in heads])
    later: list[Row] = []  # a second copy within this batch, or already stored
    given: list[Row] = []  # what ``checked`` gave the fast path, in case it must be redone

    def checked() -> Iterator[Row]:
        """The items that pass every check, in order, the first copy of each key only."""
        seen: set[tuple[str, str]] = set()
        for index, raw, head in heads:
            try:
                item = normalise_rest(raw, head, now=now)
            except Invalid as exc:
                outcomes[index] = rejected(index, raw, str(exc))
                continue
            if item.account_id and item.account_id not in existing_ids:
                outcomes[index] = Outcome(
                    index,
                    REJECTED,
                    item.external_id,
                    reason=f"no account with id {item.account_id}",
                )
                continue
            payload, digest = item.encoded()
            # PostgreSQL stores no NUL, nor a lone surrogate, in text or jsonb (every field
            # was checked; this is the net behind those checks).
            if "\\u" in payload and (why := normalise.storable_payload(payload)):
                outcomes[index] = Outcome(index, REJECTED, item.external_id, reason=why)
                continue
            account_id = item.account_id or found.get(item.account_ref)
            if sender.account_ids is not None and (refusal := sender.account_refusal(account_id)):
                outcomes[index] = Outcome(index, REJECTED, item.external_id, reason=refusal)
                continue
            status = SignalStatus.PENDING if account_id else SignalStatus.UNMATCHED
            row = (index, item, account_id, payload, digest, status)
            key = (item.source, item.external_id)
            if key in seen:
                later.append(row)
            else:
                seen.add(key)
                given.append(row)
                yield row

    keys = {(head.source, head.external_id) for _, _, head in heads}
    rows = checked()
    try:
        with transaction.atomic():
            inserted = _insert_new(rows, keys, now, sender)
    except ITEM_ERRORS:
        # One value the database refuses fails the whole statement (COPY, or the multi-row
        # INSERT): store the batch again item by item, so it costs only its own item.
        log.warning("a batch of signals failed to store; storing them one by one", exc_info=True)
        for _row in rows:  # check the rest of the batch (``checked`` adds it to ``given``)
            pass
        inserted = _insert_each(given, now, outcomes, sender)
    for row, pk in inserted:
        if pk is None:  # stored before (or just now by a concurrent request): compare
            later.append(row)
            continue
        index, item, account_id = row[0], row[1], row[2]
        outcomes[index] = Outcome(
            index, ACCEPTED, item.external_id, pk, 1, unmatched=not account_id
        )
    if later:
        known = known_signals({row_key(row) for row in later})
        for row in sorted(later, key=lambda row: row[0]):
            index, item, account_id = row[0], row[1], row[2]
            signal = known.get(row_key(row))
            if signal is None:  # vanished (deleted) between the two reads
                outcomes[index] = Outcome(index, REJECTED, item.external_id, reason="try again")
                continue
            # A later version updates the row the first receipt created, whatever month
            # its own occurred_at falls in: the first receipt fixed the partition key.
            if signal.digest == row[4]:  # a resend, the usual case: no savepoint needed
                result = None
            else:
                try:
                    with transaction.atomic():
                        result = update_version(signal, row, now, sender)
                except ITEM_ERRORS as exc:
                    outcomes[index] = refused(row, exc)
                    continue
            if result is None:
                outcomes[index] = Outcome(
                    index,
                    DUPLICATE,
                    item.external_id,
                    signal.pk,
                    signal.version,
                    reason="already received",
                )
            else:
                result.index = index
                result.unmatched = result.status == ACCEPTED and not account_id
                outcomes[index] = result
    final = [o for o in outcomes if o is not None]
    count_rejections(final, default_source or first_source(raws), now)
    sources = {index: head.source for index, _, head in heads}
    stored = Counter((sources[o.index], o.status) for o in final if o.status != REJECTED)
    for (source, status), count in stored.items():
        ingest_counted(source, status, count)
    if backfill is not None:
        backfill_record(backfill, final)
    else:
        news_record(final)
    if publish:
        pending = [
            o.id for o in final if o.status == ACCEPTED and not o.unmatched and o.id is not None
        ]
        if pending:
            transaction.on_commit(lambda: publish_processing(pending))
    return final
