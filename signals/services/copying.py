"""PostgreSQL: new signals go in by one COPY straight into the table (``insert_new_pg``),
with the stored keys looked up by index probes (``stored_pg``). The COPY engine itself is
``csrisk.db``'s; what is here is the signal's row in COPY's text format and the decisions."""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from django.db import connection

from csrisk.db import COPY_NULL, CopySource, copy_rows, copy_text, insert_staged
from signals.models import Signal
from signals.provenance import Sender
from signals.services.rows import COLUMNS, CONFLICT, NEW, RETURNING, Row, row_key

# Every column of a new row, in the order of the COPY text below.
COPY_COLUMNS = f"id, {COLUMNS}, version, processed_version, error"
_BACKSLASH, _BACKSLASH_2 = "\\", "\\\\"


def _copy_sender(sender: Sender) -> str:
    """The sender's columns in COPY's text format, the same for every row of a batch."""
    user = COPY_NULL if sender.user_id is None else str(sender.user_id)
    return f"{sender.via}\t{user}\t{copy_text(sender.label)}\t{'t' if sender.bound else 'f'}"


def _copy_line(row: Row, pk: int, received: str, sent: str) -> str:
    """One row in COPY's text format; ``sent`` is ``_copy_sender``'s text."""
    _index, item, account_id, payload, digest, status = row
    upd = item.source_updated_at
    return (
        f"{pk}\t{copy_text(item.source)}\t{copy_text(item.external_id)}\t"
        f"{item.month_iso}\t{item.kind}\t{account_id or COPY_NULL}\t"
        f"{'' if account_id else copy_text(item.account_ref)}\t{item.occurred_iso}\t"
        f"{upd.isoformat() if upd else COPY_NULL}\t{received}\t"
        # The payload is JSON with every control character escaped already: only its
        # backslashes need doubling.
        f"{payload.replace(_BACKSLASH, _BACKSLASH_2)}\t{digest}\t{status}\t{sent}\t1\t0\t\n"
    )


# How many of a batch's keys are looked up before deciding how to store it.
_SAMPLE = 32


def insert_new_pg(
    rows: Iterable[Row], keys: Collection[tuple[str, str]], now: dt.datetime, sender: Sender
) -> list[tuple[Row, int | None]]:
    """PostgreSQL: the new rows go in by one COPY straight into the table, as fast as the
    table takes rows. Ids come from the table's sequence beforehand (COPY returns none; an
    id left over by a row that failed its checks or was known is a gap, as after a
    rollback). ``rows`` is read while COPY runs: the server parses and indexes the rows
    sent while the next ones are checked and formatted, the two cores working at once.

    Which keys are stored already is looked up first only when a few of the batch's keys
    say it pays (a resend, a batch of updates): a batch of new signals, the usual case,
    goes straight in, and the unique index stops the COPY at the first key stored before
    or by a concurrent sender; then ``_copy_known_out`` finishes the batch the careful
    way. Either way the unique index, not a read-then-write, has the last word."""
    keys = list(keys)
    taken: set[tuple[str, str]] = set()
    if stored_pg("source, external_id", keys[:_SAMPLE]):
        taken = set(stored_pg("source, external_id", keys))
    count = len(keys) - len(taken)
    if not count:
        return [(row, None) for row in rows]
    settled: list[tuple[Row, int | None]] = []
    new: list[tuple[Row, int]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            # MATERIALIZED: the sequence is looked up once, not once per id.
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS seq) "
            "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
            [Signal._meta.db_table, count],
        )
        ids = [pk for (pk,) in cursor.fetchall()]

        def lines() -> Iterator[str]:
            received = now.isoformat()
            sent = _copy_sender(sender)
            free = iter(ids)
            for row in rows:
                if taken and (row[1].source, row[1].external_id) in taken:
                    settled.append((row, None))
                    continue
                pk = next(free)
                new.append((row, pk))
                yield _copy_line(row, pk, received, sent)

        source = CopySource(lines())
        if not _copy(cursor, source):
            settled += _copy_known_out(cursor, new, source.lines())
            return settled
    return [*settled, *new]


def _copy(cursor: Any, source: Any) -> bool:
    """COPY the lines into the table; False, with nothing stored, if a key is taken."""
    return copy_rows(cursor, Signal._meta.db_table, COPY_COLUMNS, source)


def _copy_known_out(
    cursor: Any, new: list[tuple[Row, int]], lines: list[str]
) -> list[tuple[Row, int | None]]:
    """After a COPY met a stored key: look up which keys are stored and COPY the rest; if
    a concurrent sender stores one of those first, settle each row with ON CONFLICT."""
    taken = {tuple(key) for key in stored_pg("source, external_id", [row_key(r) for r, _ in new])}
    out: list[tuple[Row, int | None]] = []
    rest: list[str] = []
    for (row, pk), line in zip(new, lines, strict=True):
        if row_key(row) in taken:
            out.append((row, None))
        else:
            out.append((row, pk))
            rest.append(line)
    if rest and not _copy(cursor, io.StringIO("".join(rest))):
        stored = _insert_staged(cursor, "".join(rest))
        return [(row, None if pk is None else stored.get(row_key(row))) for row, pk in out]
    return out


# The staging table of ``_insert_staged``: the columns of ``COPY_COLUMNS``, any row accepted.
_STAGE_COLUMNS = (
    "id bigint, source text, external_id text, month date, kind text, account_id bigint, "
    "org_ref text, occurred_at timestamptz, source_updated_at timestamptz, "
    "received_at timestamptz, payload jsonb, digest text, status text, sent_via text, "
    "sent_by_id bigint, sender text, sent_bound boolean, version int, "
    "processed_version int, error text"
)


def _insert_staged(cursor: Any, text: str) -> dict[tuple[str, str], int]:
    """COPY into a session-local staging table, then one INSERT … SELECT … ON CONFLICT DO
    NOTHING: each row settled against whatever concurrent senders stored."""
    stored = insert_staged(
        cursor,
        Signal._meta.db_table,
        COPY_COLUMNS,
        text,
        stage="signals_stage_rows",
        stage_columns=_STAGE_COLUMNS,
        where=NEW,
        conflict=CONFLICT,
        returning=RETURNING,
    )
    return {(src, ext): pk for pk, src, ext in stored}


def stored_pg(columns: str, keys: Iterable[tuple[str, str]]) -> list[tuple]:
    """``columns`` of the stored signals with these keys: one index probe per key through
    the unique index's prefix (source, external_id), one query per source (a batch usually
    has one). ``OFFSET 0`` keeps the subquery a probe whatever the table's statistics say:
    ``external_id = ANY(…)`` let the planner read every row of the source and filter (a
    table just truncated or never analysed), two to three times slower at 50,000 rows and
    growing with the table."""
    by_source: dict[str, list[str]] = defaultdict(list)
    for src, ext in keys:
        by_source[src].append(ext)
    found: list[tuple] = []
    with connection.cursor() as cursor:
        for src, ext_ids in by_source.items():
            cursor.execute(
                "SELECT t.* FROM unnest(%s::text[]) AS k(external_id), LATERAL ("
                f"SELECT {columns} FROM signals_signal "
                "WHERE source = %s AND external_id = k.external_id OFFSET 0) t",
                [ext_ids, src],
            )
            found += cursor.fetchall()
    return found
