"""A checked signal on its way to the table (``Row``), and the SQL both ways of inserting new
signals share (the multi-row INSERT, and PostgreSQL's COPY with its staging fallback)."""

from __future__ import annotations

from signals.normalise import Item

# One checked item on its way to the table: (index in the request, the item, its account
# id or None when parked, the payload's JSON, its digest, the status to store). A plain
# tuple: the hot path builds one per signal.
Row = tuple[int, Item, int | None, str, str, str]

COLUMNS = (
    "source, external_id, month, kind, account_id, org_ref, occurred_at, source_updated_at, "
    "received_at, payload, digest, status, sent_via, sent_by_id, sender, sent_bound"
)
RETURNING = "RETURNING id, source, external_id"
CONFLICT = "ON CONFLICT (source, external_id, month) DO NOTHING"
# A later version whose occurred_at falls in another month is still the same signal: it
# updates the row of the first receipt (the unique index's prefix answers this).
NEW = (
    "NOT EXISTS (SELECT 1 FROM signals_signal t "
    "WHERE t.source = v.source AND t.external_id = v.external_id)"
)


def row_key(row: Row) -> tuple[str, str]:
    return row[1].source, row[1].external_id
