"""A fast path for inserting many rows, for measured hot paths (seeding, batch ingestion).

The ORM's bulk_create prepares every value of every object through its field (about 4 µs a
value); this resolves one converter per column and hands plain tuples to ``executemany``.
Rows skip model validation and save(): callers pass values that are already valid.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any

from django.db import connection, connections, models, transaction


def _converter(field: models.Field) -> Callable[[Any], Any] | None:
    ops = connection.ops
    if isinstance(field, models.DateTimeField):
        return ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return json.dumps
    return None


def insert_rows(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    batch: int = 5000,
) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``, attnames such as account_id)."""
    fields = [model._meta.get_field(c) for c in columns]  # attnames resolve too
    converters = [_converter(f) for f in fields]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) VALUES ({marks})"
    )
    total = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        while chunk := list(islice(iterator, batch)):
            prepared = [
                tuple(
                    v if conv is None or v is None else conv(v)
                    for v, conv in zip(row, converters, strict=True)
                )
                for row in chunk
            ]
            cursor.executemany(sql, prepared)
            total += len(prepared)
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
    prepared = (
        (
            key,
            *(
                v if conv is None or v is None else conv(v)
                for v, conv in zip(values, converters, strict=True)
            ),
        )
        for key, *values in rows
    )
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
