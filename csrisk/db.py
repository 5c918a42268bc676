"""Fast paths for measured hot paths (seeding, batch ingestion, the recompute).

- ``insert_rows`` / ``update_rows`` / ``upsert_rows``: many rows in or changed without the
  ORM's per-value preparation. The ORM's bulk_create prepares every value of every object
  through its field (about 4 µs a value); these resolve one converter per column and hand
  plain tuples to ``executemany``. Rows skip model validation and save(): callers pass valid values.
- The PostgreSQL COPY engine: ``copy_rows`` streams lines in COPY's text format (escaped
  by ``copy_text``, read from a ``CopySource`` while they are still being formatted) straight
  into a table; ``insert_staged`` copies into a session-local staging table and moves the
  rows over with one ``INSERT … SELECT … ON CONFLICT``. The callers format their own rows.
- ``concurrent_reads``: independent reads side by side, each on its own connection.
- ``gc_paused``: no cyclic garbage collection while a batch allocates and keeps millions of
  objects.
- ``id_array`` / ``ids_param`` / ``IDS_IN`` / ``among``: a set of ids as ONE query parameter
  (``= ANY(%s::bigint[])`` on PostgreSQL, ``json_each`` on SQLite), whatever its size.
"""

from __future__ import annotations

import gc
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from itertools import islice
from typing import Any

from django.db import IntegrityError, connection, connections, models, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return json.dumps
    return None


def dialect() -> str:
    """The SQL dialect of the default connection: "postgresql", or "sqlite" for any other
    (the embedded default). The keys of every per-dialect fragment table."""
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def _prepared(row: Iterable[Any], converters: Sequence[Callable[[Any], Any] | None]) -> list[Any]:
    """One row's values as the database takes them (``_converter`` per column; None stays)."""
    pairs = zip(row, converters, strict=True)
    return [v if conv is None or v is None else conv(v) for v, conv in pairs]


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = 5000,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, attnames such as account_id).

    On PostgreSQL one multi-row ``INSERT … VALUES (…), (…)`` per ``VALUES_ROWS`` rows:
    psycopg2's ``executemany`` sends one statement a row, a round trip each (a 10,000-row
    accounts import spent 1.7 s there against 0.5 s for the same rows in ten statements).
    SQLite runs in-process, where ``executemany`` of one prepared statement is fastest."""
    fields = [model._meta.get_field(c) for c in columns]  # attnames resolve too
    converters = [_converter(f) for f in fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    head = f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES "
    many = connection.vendor == "postgresql"
    total = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(iterator, VALUES_ROWS if many else batch)):
            if many:
                flat = [v for row in chunk for v in _prepared(row, converters)]
                cursor.execute(head + ", ".join([row_marks] * len(chunk)), flat)
            else:
                cursor.executemany(
                    head + row_marks,
                    [_prepared(row, converters) for row in chunk],
                )
            total += len(chunk)
    return total


# Rows per multi-row INSERT on PostgreSQL (``insert_rows``): past a few hundred rows a
# statement the round trips no longer show, and the statement stays a few hundred kB.
VALUES_ROWS = 1000


def upsert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    unique: Sequence[str],
    batch: int = 1000,
) -> int:
    """Insert ``rows`` as ``insert_rows`` does, or update the row with the same ``unique``
    columns: ``INSERT … ON CONFLICT (unique) DO UPDATE`` (PostgreSQL and SQLite), one
    multi-row statement per batch. Keys must be distinct within ``rows``. What
    ``bulk_create(update_conflicts=True)`` does without a model instance per row, whose
    preparation was half of processing a batch of signals."""
    fields = [model._meta.get_field(c) for c in columns]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    keys = {model._meta.get_field(c).column for c in unique}
    updates = ", ".join(
        f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields if f.column not in keys
    )
    row_marks = "(" + ", ".join(["%s"] * len(fields)) + ")"
    conflict = ", ".join(quote(k) for k in sorted(keys))
    total = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) "
                f"VALUES {', '.join([row_marks] * len(chunk))} "
                f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
                [v for row in chunk for v in _prepared(row, converters)],
            )
            total += len(chunk)
    return total


def analyze() -> None:
    """Fresh planner statistics after a bulk load (PostgreSQL): autovacuum gets to a table
    only a while after millions of rows arrive, and until then the planner guesses its
    size — the scorecard reads then choose nested loops over whole tables (a steady-state
    recompute of the 10,000-account benchmark book took 128 s instead of 3.4 s)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def update_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = 1000,
) -> int:
    """Update rows by primary key: ``rows`` are tuples (pk, *values in the order of
    ``columns``). The values are converted as ``insert_rows`` converts them.

    Django's ``bulk_update`` writes ``CASE WHEN pk = … THEN …`` per row and column and
    resolves an expression for each: ~0.25 ms a row in Python and a statement PostgreSQL
    parses slowly (2,100 areas took 0.55 s). On PostgreSQL this is one ``UPDATE … FROM
    (VALUES …)`` per batch, each value cast to its column's type (the literals arrive as
    text); elsewhere one ``UPDATE … WHERE pk = %s`` per row through ``executemany``.
    """
    pk = model._meta.pk
    fields = [model._meta.get_field(c) for c in columns]
    converters = [_converter(f) for f in fields]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    prepared = ((key, *_prepared(values, converters)) for key, *values in rows)
    total = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ["pk", *(f"c{i}" for i in range(len(fields)))]
            assignments = ", ".join(
                f"{quote(f.column)} = v.c{i}::{f.db_type(connection)}" for i, f in enumerate(fields)
            )
            row_marks = "(" + ", ".join(["%s"] * len(names)) + ")"
            while chunk := list(islice(prepared, batch)):
                sql = (
                    f"UPDATE {table} SET {assignments}"
                    f" FROM (VALUES {', '.join([row_marks] * len(chunk))}) AS v({', '.join(names)})"
                    f" WHERE {table}.{quote(pk.column)} = v.pk"
                )
                cursor.execute(sql, [v for row in chunk for v in row])
                total += len(chunk)
        else:
            assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            sql = f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s"
            while chunk := list(islice(prepared, batch)):
                cursor.executemany(sql, [(*values, key) for key, *values in chunk])
                total += len(chunk)
    return total


def reads_may_run_concurrently() -> bool:
    """Whether reads on other connections see what this one sees: PostgreSQL (SQLite has
    one writer and gains nothing), and no transaction open here — another connection sees
    only committed rows, so a caller that wrote in an open transaction must read on its
    own connection. (Tests that run inside a transaction therefore read serially.)"""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def concurrent_reads(
    reads: Sequence[tuple[str, Callable[[], Any]]], *, workers: int, session_sql: str = ""
) -> Iterator[tuple[str, Any]]:
    """Run each read (name, function) on one of ``workers`` threads, each with its own
    database connection, and yield (name, result) as each finishes; the first error is
    raised here. Reads are taken in the order given (longest first pays best).

    Why: a full recompute's reads are a dozen statements the server answers one after the
    other while Python waits, then Python converts and computes while the server idles.
    On their own connections the statements run side by side (the server has more than one
    core) and overlap with the conversions of those already answered.

    Each thread runs its reads in one transaction, after ``session_sql`` (SET LOCAL …), so
    every read is a statement of its own, as on one connection in READ COMMITTED; callers
    must hold no uncommitted writes (``reads_may_run_concurrently``). Every connection a
    thread opened is closed before the thread ends.
    """
    todo: queue.SimpleQueue[tuple[str, Callable[[], Any]]] = queue.SimpleQueue()
    for read in reads:
        todo.put(read)
    done: queue.SimpleQueue[tuple[str, Any, BaseException | None]] = queue.SimpleQueue()
    stop = threading.Event()

    def lane() -> None:
        name = ""
        try:
            with transaction.atomic():
                if session_sql:
                    with connection.cursor() as cursor:
                        cursor.execute(session_sql)
                while not stop.is_set():
                    try:
                        name, read = todo.get_nowait()
                    except queue.Empty:
                        break
                    done.put((name, read(), None))
        except BaseException as exc:  # handed to the caller's thread, which raises it
            done.put((name, None, exc))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=lane, name=f"csrisk-read-{i}", daemon=True)
        for i in range(max(1, min(workers, len(reads))))
    ]
    for t in threads:
        t.start()
    try:
        for _ in range(len(reads)):
            name, result, error = done.get()
            if error is not None:
                raise error
            yield name, result
    finally:
        stop.set()
        for t in threads:
            t.join()


# --- COPY (PostgreSQL) -------------------------------------------------------------------

COPY_NULL = "\\N"  # NULL in COPY's text format


def copy_text(value: str) -> str:
    """A text field for COPY's text format: backslash, tab, newline and carriage return
    escaped (the usual text has none, so the test is all it costs)."""
    if "\\" in value or not value.isprintable():
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        return value.replace("\n", "\\n").replace("\r", "\\r")
    return value


class CopySource:
    """COPY's input, formatted as PostgreSQL reads it: the server parses and indexes one
    chunk while the next is formatted, instead of waiting for the whole text. Keeps what
    it gave out, in case the batch must be copied again."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._given: list[str] = []

    def read(self, size: int = 1 << 16) -> str:
        start, length = len(self._given), 0
        for line in self._lines:
            self._given.append(line)
            length += len(line)
            if length >= size:
                break
        return "".join(self._given[start:])

    def lines(self) -> list[str]:
        """Every line, read or not."""
        self._given.extend(self._lines)
        return self._given


def copy_rows(cursor: Any, table: str, columns: str, source: Any) -> bool:
    """COPY ``source`` (a file-like object of lines in COPY's text format, e.g. a
    ``CopySource``) into ``table``'s ``columns``, in a savepoint; False, with nothing
    stored, if a row breaks a unique index (or another constraint)."""
    quoted = connection.ops.quote_name(table)
    try:
        with transaction.atomic(), connection.wrap_database_errors:
            cursor.cursor.copy_expert(f"COPY {quoted} ({columns}) FROM STDIN", source, size=1 << 16)
    except IntegrityError:
        return False
    return True


def insert_staged(
    cursor: Any,
    table: str,
    columns: str,
    text: str,
    *,
    stage: str,
    stage_columns: str,
    where: str = "",
    conflict: str = "",
    returning: str = "",
) -> list[tuple]:
    """COPY ``text`` into the session-local staging table ``stage`` (created on first use
    with ``stage_columns``, emptied at commit), then one ``INSERT INTO table … SELECT …
    FROM stage v WHERE … ON CONFLICT …``: each row settled against whatever concurrent
    writers stored, where a plain COPY would fail as a whole. Returns the ``returning``
    rows. ``where`` may refer to the staged row as ``v``."""
    quoted = connection.ops.quote_name(table)
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {stage} ({stage_columns}) ON COMMIT DELETE ROWS"
    )
    with connection.wrap_database_errors:
        cursor.cursor.copy_expert(f"COPY {stage} ({columns}) FROM STDIN", io.StringIO(text))
    cursor.execute(
        f"INSERT INTO {quoted} ({columns}) SELECT {columns} FROM {stage} v "
        f"{f'WHERE {where} ' if where else ''}{conflict} {returning}"
    )
    rows = cursor.fetchall() if returning else []
    cursor.execute(f"TRUNCATE {stage}")  # the next batch of this transaction
    return rows


# --- the garbage collector ---------------------------------------------------------------


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is read, computed and stored.

    A batch allocates tens of thousands to millions of objects (checked signals, rows,
    sentences, frames) that live until its end and form no reference cycles, yet each pass
    of the collector those allocations trigger walks them all again: about a third of the
    time per ingested signal, ~0.1 s of a full recompute of the 10k book (measured).
    Reference counting frees memory as usual; the collector resumes after, and collects the
    cycles the batch left as usual. Nested or already paused (an outer batch, the process's
    choice): changes nothing, and leaves it paused.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# --- a set of ids as one parameter --------------------------------------------------------


def id_array(ids: Iterable[int]) -> str:
    """Ids as one PostgreSQL array literal ("{1,2,3}") for ``= ANY(%s::bigint[])``.
    A Python list goes over as ARRAY[1, 2, …], an expression of 10,000 constants that the
    server parses and plans at every statement (~50 ms each, even on an empty table); the
    literal is one constant. A recompute's dozen statements share one text (cached: 10,000
    ids take ~4 ms to write out)."""
    return _id_array(tuple(ids))


@lru_cache(maxsize=4)
def _id_array(ids: tuple[int, ...]) -> str:
    return "{" + ",".join(map(str, map(int, ids))) + "}"


# ``column {IDS_IN[vendor]}`` with ``ids_param(ids, vendor)``: the column is one of the ids.
IDS_IN = {"postgresql": "= ANY(%s::bigint[])", "sqlite": "IN (SELECT value FROM json_each(%s))"}
# The ids as rows of one column, for ``IN (…)`` and ``INSERT … SELECT``.
IDS_ROWS = {
    "postgresql": "SELECT unnest(%s::bigint[])",
    "sqlite": "SELECT value FROM json_each(%s)",
}


def ids_param(ids: Iterable[int], vendor: str | None = None) -> str:
    """The parameter ``IDS_IN`` / ``IDS_ROWS`` take: an array literal on PostgreSQL, a JSON
    list on SQLite."""
    vendor = vendor or connection.vendor
    if vendor == "postgresql":
        return id_array(ids)
    return json.dumps([int(i) for i in ids])


def among(qs: QuerySet, field: str, ids: Iterable[int]) -> QuerySet:
    """``qs`` restricted to rows whose ``field`` is one of ``ids``, sent as one parameter:
    ``field__in=[…]`` sends one per id, which past a few thousand costs more than the rows
    it saves (and SQLite refuses past 250,000)."""
    vendor = dialect()
    return qs.filter(**{f"{field}__in": RawSQL(IDS_ROWS[vendor], [ids_param(ids, vendor)])})
