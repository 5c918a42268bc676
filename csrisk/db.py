"""A fast path for inserting many rows, for measured hot paths (seeding, batch ingestion).

The ORM's bulk_create prepares every value of every object through its field (about 4 µs a
value); this resolves one converter per column and hands plain tuples to ``executemany``.
Rows skip model validation and save(): callers pass values that are already valid.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import connection, models


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
