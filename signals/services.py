"""Writes of the signals app: store incoming signals, turn them into facts, match orgs.

The path of a signal (STYLE.md, "How data flows"):
1. ``signals_store`` checks and stores a batch in the caller's transaction (the API
   commits it before answering 202) and, after commit, queues processing.
2. ``signals_process`` (a Celery task on the ``ingest`` queue, or the sweeper) turns
   pending signals into facts — tickets, people changes, competitor events, usage,
   sentiment — with upserts keyed by (source, external_id), marks them processed in the
   same transaction, runs the rules, and asks scorecards for a coalesced recompute.
   Running it twice changes nothing: that is what makes retries and the sweeper safe.
3. Signals of an organisation nobody knows are parked (``unmatched``), never dropped;
   ``org_match`` (a person) or an account gaining that external id releases them.
"""

from __future__ import annotations

import datetime as dt
import gc
import io
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F, Q

from accounts.importing import ImportFileError
from accounts.models import (
    Account,
    CompetitorEvent,
    SentimentResponse,
    Ticket,
    UsageSnapshot,
)
from accounts.rules import can_change_account, can_import_accounts
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import audit, clock
from csrisk.models import User
from scorecards.services import request_recompute
from signals import normalise, rules
from signals.choices import Kind, SignalStatus
from signals.models import (
    IdempotencyRecord,
    IngestRejection,
    OrgAlias,
    Signal,
    SignalImport,
    SignalVersion,
)
from signals.normalise import Head, Invalid, Item, Unreadable, normalise_head, normalise_rest
from signals.provenance import SYSTEM_SENDER, Sender

log = logging.getLogger(__name__)

MAX_BATCH = 5000
PROCESS_CHUNK = 500
INSERT_CHUNK = 1000

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
BAD_DATA = (IntegrityError, DataError, ValueError, KeyError, TypeError, AttributeError)
# What the database (or its driver, encoding a value) raises for one item's data; a server
# that is away raises OperationalError, which is not the item's fault and stays a 503.
ITEM_ERRORS = (DataError, IntegrityError, ValueError)


@dataclass(slots=True)
class Outcome:
    """The answer for one item of a request."""

    index: int
    status: str
    external_id: str = ""
    id: int | None = None
    version: int | None = None
    unmatched: bool = False
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.external_id:
            out["external_id"] = self.external_id
        if self.id is not None:
            out["id"] = self.id
            out["version"] = self.version
        if self.unmatched:
            out["unmatched"] = True
        if self.reason:
            out["reason"] = self.reason
        return out


# --- resolving organisations -----------------------------------------------------------


def _accounts_by_ref(refs: set[str]) -> list[tuple[int, str | None, str | None]]:
    if connection.vendor == "postgresql":
        # One array parameter instead of a thousand-item IN list the ORM compiles each time.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, crm_id, helpdesk_org_id FROM accounts_account "
                "WHERE crm_id = ANY(%s) OR helpdesk_org_id = ANY(%s)",
                [list(refs), list(refs)],
            )
            return cursor.fetchall()
    return list(
        Account.objects.filter(Q(crm_id__in=refs) | Q(helpdesk_org_id__in=refs)).values_list(
            "pk", "crm_id", "helpdesk_org_id"
        )
    )


def resolve_orgs(items: Sequence[Item | Head]) -> tuple[dict[str, int], set[int]]:
    """Map each external org key to an account id (CRM id, help-desk id, then aliases);
    return it and the set of csrisk ids that exist. Three or four queries per batch."""
    refs = {i.account_ref for i in items if i.account_ref}
    ids = {i.account_id for i in items if i.account_id}
    found: dict[str, int] = {}
    if refs:
        for pk, crm, hd in _accounts_by_ref(refs):
            if hd in refs:
                found.setdefault(hd, pk)
            if crm in refs:
                found[crm] = pk  # the CRM id wins over a help-desk id
        left = refs - found.keys()
        if left:
            sources = {i.source for i in items}
            for org_ref, account_id in OrgAlias.objects.filter(
                source__in=sources, org_ref__in=left
            ).values_list("org_ref", "account_id"):
                found.setdefault(org_ref, account_id)
    existing = (
        set(Account.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
    )
    return found, existing


# --- storing ---------------------------------------------------------------------------

# One checked item on its way to the table: (index in the request, the item, its account
# id or None when parked, the payload's JSON, its digest, the status to store). A plain
# tuple: the hot path builds one per signal.
Row = tuple[int, Item, int | None, str, str, str]

_COLUMNS = (
    "source, external_id, month, kind, account_id, org_ref, occurred_at, source_updated_at, "
    "received_at, payload, digest, status, sent_via, sent_by_id, sender, sent_bound"
)
_RETURNING = "RETURNING id, source, external_id"
_CONFLICT = "ON CONFLICT (source, external_id, month) DO NOTHING"
# A later version whose occurred_at falls in another month is still the same signal: it
# updates the row of the first receipt (the unique index's prefix answers this).
_NEW = (
    "NOT EXISTS (SELECT 1 FROM signals_signal t "
    "WHERE t.source = v.source AND t.external_id = v.external_id)"
)


def _key(row: Row) -> tuple[str, str]:
    return row[1].source, row[1].external_id


def _insert_new(
    rows: Iterable[Row], keys: Collection[tuple[str, str]], now: dt.datetime, sender: Sender
) -> list[tuple[Row, int | None]]:
    """Store the rows whose (source, external_id) is not stored yet, once however many
    senders race: the database, not a read-then-write, has the last word (the unique
    index). ``rows`` have distinct keys, all of them among ``keys``. Returns each row with
    its new id, or None where the key was stored before."""
    if connection.vendor == "postgresql":
        return _insert_new_pg(rows, keys, now, sender)
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
                f"WITH v ({_COLUMNS}) AS (VALUES {marks}) "
                f"INSERT INTO {table} ({_COLUMNS}, version, processed_version, error) "
                f"SELECT {_COLUMNS}, 1, 0, '' FROM v WHERE {_NEW} {_CONFLICT} {_RETURNING}",
                params,
            )
            for pk, src, ext in cursor.fetchall():
                stored[(src, ext)] = pk
    return [(row, stored.get(_key(row))) for row in rows]


# Every column of a new row, in the order of the COPY text below.
_COPY_COLUMNS = f"id, {_COLUMNS}, version, processed_version, error"
_NULL = "\\N"
_BACKSLASH, _BACKSLASH_2 = "\\", "\\\\"


def _copy_text(value: str) -> str:
    """A text field for COPY's text format: backslash, tab, newline and carriage return
    escaped (the usual text has none, so the test is all it costs)."""
    if "\\" in value or not value.isprintable():
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        return value.replace("\n", "\\n").replace("\r", "\\r")
    return value


def _copy_sender(sender: Sender) -> str:
    """The sender's columns in COPY's text format, the same for every row of a batch."""
    user = _NULL if sender.user_id is None else str(sender.user_id)
    return f"{sender.via}\t{user}\t{_copy_text(sender.label)}\t{'t' if sender.bound else 'f'}"


def _copy_line(row: Row, pk: int, received: str, sent: str) -> str:
    """One row in COPY's text format; ``sent`` is ``_copy_sender``'s text."""
    _index, item, account_id, payload, digest, status = row
    upd = item.source_updated_at
    return (
        f"{pk}\t{_copy_text(item.source)}\t{_copy_text(item.external_id)}\t"
        f"{item.month_iso}\t{item.kind}\t{account_id or _NULL}\t"
        f"{'' if account_id else _copy_text(item.account_ref)}\t{item.occurred_iso}\t"
        f"{upd.isoformat() if upd else _NULL}\t{received}\t"
        # The payload is JSON with every control character escaped already: only its
        # backslashes need doubling.
        f"{payload.replace(_BACKSLASH, _BACKSLASH_2)}\t{digest}\t{status}\t{sent}\t1\t0\t\n"
    )


class _CopySource:
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


# How many of a batch's keys are looked up before deciding how to store it.
_SAMPLE = 32


def _insert_new_pg(
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
    if _stored_pg("source, external_id", keys[:_SAMPLE]):
        taken = set(_stored_pg("source, external_id", keys))
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

        source = _CopySource(lines())
        if not _copy(cursor, source):
            settled += _copy_known_out(cursor, new, source.lines())
            return settled
    return [*settled, *new]


def _copy(cursor: Any, source: Any) -> bool:
    """COPY the lines into the table; False, with nothing stored, if a key is taken."""
    table = connection.ops.quote_name(Signal._meta.db_table)
    try:
        with transaction.atomic(), connection.wrap_database_errors:
            cursor.cursor.copy_expert(
                f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN", source, size=1 << 16
            )
    except IntegrityError:
        return False
    return True


def _copy_known_out(
    cursor: Any, new: list[tuple[Row, int]], lines: list[str]
) -> list[tuple[Row, int | None]]:
    """After a COPY met a stored key: look up which keys are stored and COPY the rest; if
    a concurrent sender stores one of those first, settle each row with ON CONFLICT."""
    taken = {tuple(key) for key in _stored_pg("source, external_id", [_key(r) for r, _ in new])}
    out: list[tuple[Row, int | None]] = []
    rest: list[str] = []
    for (row, pk), line in zip(new, lines, strict=True):
        if _key(row) in taken:
            out.append((row, None))
        else:
            out.append((row, pk))
            rest.append(line)
    if rest and not _copy(cursor, io.StringIO("".join(rest))):
        stored = _insert_staged(cursor, "".join(rest))
        return [(row, None if pk is None else stored.get(_key(row))) for row, pk in out]
    return out


def _insert_staged(cursor: Any, text: str) -> dict[tuple[str, str], int]:
    """COPY into a session-local staging table, then one INSERT … SELECT … ON CONFLICT DO
    NOTHING: each row settled against whatever concurrent senders stored."""
    table = connection.ops.quote_name(Signal._meta.db_table)
    cursor.execute(
        "CREATE TEMP TABLE IF NOT EXISTS signals_stage_rows ("
        "id bigint, source text, external_id text, month date, kind text, account_id bigint, "
        "org_ref text, occurred_at timestamptz, source_updated_at timestamptz, "
        "received_at timestamptz, payload jsonb, digest text, status text, sent_via text, "
        "sent_by_id bigint, sender text, sent_bound boolean, version int, "
        "processed_version int, error text"
        ") ON COMMIT DELETE ROWS"
    )
    with connection.wrap_database_errors:
        cursor.cursor.copy_expert(
            f"COPY signals_stage_rows ({_COPY_COLUMNS}) FROM STDIN", io.StringIO(text)
        )
    cursor.execute(
        f"INSERT INTO {table} ({_COPY_COLUMNS}) SELECT {_COPY_COLUMNS} FROM signals_stage_rows v "
        f"WHERE {_NEW} {_CONFLICT} {_RETURNING}"
    )
    stored = {(src, ext): pk for pk, src, ext in cursor.fetchall()}
    cursor.execute("TRUNCATE signals_stage_rows")  # the next batch of this transaction
    return stored


def _stored_pg(columns: str, keys: Iterable[tuple[str, str]]) -> list[tuple]:
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


def _existing(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Signal]:
    if not keys:
        return {}
    found: dict[tuple[str, str], Signal] = {}
    fields = (
        "pk", "source", "external_id", "month", "digest", "version", "source_updated_at",
        "sent_via", "sent_by_id", "sent_bound", "sender",
    )  # fmt: skip
    if connection.vendor == "postgresql":
        rows = _stored_pg(
            "id, source, external_id, month, digest, version, source_updated_at, "
            "sent_via, sent_by_id, sent_bound, sender",
            keys,
        )
    else:
        sources = {src for src, _ in keys}
        ext_ids = {ext for _, ext in keys}
        rows = list(
            Signal.objects.filter(source__in=sources, external_id__in=ext_ids).values_list(*fields)
        )
    for row in rows:
        if (row[1], row[2]) in keys:
            found.setdefault((row[1], row[2]), Signal(**dict(zip(fields, row, strict=True))))
    return found


def stored_senders(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Signal]:
    """The stored signals with these keys, with who sent their current version."""
    return _existing(set(keys))


def _update_version(signal: Signal, row: Row, now: dt.datetime, sender: Sender) -> Outcome | None:
    """Store a newer version of a known signal; None when it is the same (a duplicate),
    a rejection when ``sender`` may not replace the stored version (signals.provenance)."""
    _index, item, account_id, _payload, digest, status = row
    for _attempt in range(3):
        if signal.digest == digest:
            return None
        if (
            item.source_updated_at
            and signal.source_updated_at
            and item.source_updated_at < signal.source_updated_at
        ):
            return None  # an older version arriving late: the newer one stays
        refusal = sender.update_refusal(signal, item.source)
        if refusal:
            return Outcome(0, REJECTED, item.external_id, reason=refusal)
        old = (
            Signal.objects.filter(pk=signal.pk)
            .values("payload", "digest", "version", "sent_via", "sent_by_id", "sender")
            .first()
        )
        if old is None:
            return None
        if (old["sent_via"], old["sent_by_id"]) != (signal.sent_via, signal.sent_by_id):
            # Another sender's version landed since ``signal`` was read: judge that one.
            signal.refresh_from_db(fields=["digest", "version", "source_updated_at", *_SENT_FIELDS])
            continue
        # Race-safe: the update only applies to the version read above.
        updated = Signal.objects.filter(pk=signal.pk, version=old["version"]).update(
            kind=item.kind,
            account_id=account_id,
            org_ref="" if account_id else item.account_ref,
            occurred_at=item.occurred_at,
            source_updated_at=item.source_updated_at,
            received_at=now,
            payload=item.payload(),
            digest=digest,
            version=F("version") + 1,
            status=status,
            error="",
            sent_via=sender.via,
            sent_by_id=sender.user_id,
            sender=sender.label,
            sent_bound=sender.bound,
        )
        if updated:
            SignalVersion.objects.create(
                signal_id=signal.pk,
                version=old["version"],
                payload=old["payload"],
                digest=old["digest"],
                received_at=now,
                sent_by_id=old["sent_by_id"],
                sender=old["sender"],
            )
            return Outcome(0, ACCEPTED, item.external_id, signal.pk, old["version"] + 1)
        signal.refresh_from_db(fields=["digest", "version", "source_updated_at", *_SENT_FIELDS])
    return None


_SENT_FIELDS = ["sent_via", "sent_by_id", "sent_bound", "sender"]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch is read, checked and stored. The
    batch allocates tens of thousands of small containers and creates no reference cycles,
    yet the collections those allocations trigger cost about a third of the time per item
    (measured). Reference counting frees memory as usual; the collector resumes after."""
    if not gc.isenabled():  # paused already (an outer batch, or the process's choice)
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def signals_store(
    raws: Sequence[Any],
    *,
    default_source: str = "",
    publish: bool = True,
    sender: Sender = SYSTEM_SENDER,
) -> list[Outcome]:
    """Check and store signals; one outcome per item, in order. Call inside a transaction
    (the API's); processing is queued after that transaction commits. Every stored
    version records ``sender``; an item outside the sender's sources or accounts, or a
    version the sender may not replace, is rejected (signals.provenance)."""
    with gc_paused():
        return _store(raws, default_source, publish, sender)


def _rejected(index: int, raw: Any, reason: str) -> Outcome:
    if isinstance(raw, dict):
        ext = raw.get("external_id")
    else:
        ext = raw.external_id if isinstance(raw, Unreadable) else None
    # The answer echoes what was sent: escaped where JSON in UTF-8 (and jsonb) cannot carry it.
    return Outcome(
        index,
        REJECTED,
        normalise.printable(str(ext or "")[:200]),
        reason=normalise.printable(reason),
    )


def _refused(row: Row, exc: Exception) -> Outcome:
    """The answer for an item the database refused (a value the checks let through)."""
    log.warning("the database refused signal %s: %s", row[1].external_id, exc)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Outcome(
        row[0],
        REJECTED,
        row[1].external_id,
        reason=normalise.printable(f"the database refused this signal: {first_line}")[:300],
    )


def _insert_each(
    rows: list[Row], now: dt.datetime, outcomes: list[Outcome | None], sender: Sender
) -> list[tuple[Row, int | None]]:
    """The slow path after the fast one failed on a value: each row in its own savepoint,
    so the one the database refuses is rejected and the others are stored."""
    out: list[tuple[Row, int | None]] = []
    for row in rows:
        try:
            with transaction.atomic():
                out += _insert_new([row], [_key(row)], now, sender)
        except ITEM_ERRORS as exc:
            outcomes[row[0]] = _refused(row, exc)
    return out


def _store(
    raws: Sequence[Any], default_source: str, publish: bool, sender: Sender
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
            outcomes[index] = _rejected(index, raw, str(exc))
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
                outcomes[index] = _rejected(index, raw, str(exc))
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
        known = _existing({_key(row) for row in later})
        for row in sorted(later, key=lambda row: row[0]):
            index, item, account_id = row[0], row[1], row[2]
            signal = known.get(_key(row))
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
                        result = _update_version(signal, row, now, sender)
                except ITEM_ERRORS as exc:
                    outcomes[index] = _refused(row, exc)
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
    _count_rejections(final, default_source or _first_source(raws), now)
    if publish:
        pending = [
            o.id for o in final if o.status == ACCEPTED and not o.unmatched and o.id is not None
        ]
        if pending:
            transaction.on_commit(lambda: publish_processing(pending))
    return final


def _first_source(raws: Sequence[Any]) -> str:
    for raw in raws:
        if isinstance(raw, dict) and isinstance(raw.get("source"), str) and raw["source"]:
            return raw["source"][:40]
    return "unknown"


def _count_rejections(outcomes: list[Outcome], source: str, now: dt.datetime) -> None:
    rejected = [o for o in outcomes if o.status == REJECTED]
    if rejected:
        rejection_record(source=source, count=len(rejected), reason=rejected[-1].reason, now=now)


def rejection_record(
    *, source: str, count: int, reason: str, now: dt.datetime | None = None
) -> None:
    """Count refused items per source and day (ingestion health), race-safe."""
    now = now or clock.now()
    day = now.date()
    # The source and reason may quote what a sender sent; stored escaped where needed.
    source, reason = normalise.printable(source)[:40], normalise.printable(reason)
    n = IngestRejection.objects.filter(source=source, day=day).update(
        count=F("count") + count, last_reason=reason[:300], last_at=now
    )
    if not n:
        IngestRejection.objects.bulk_create(
            [IngestRejection(source=source, day=day, count=0, last_at=now)],
            ignore_conflicts=True,
        )
        IngestRejection.objects.filter(source=source, day=day).update(
            count=F("count") + count, last_reason=reason[:300], last_at=now
        )


def publish_processing(ids: Sequence[int]) -> None:
    """Queue processing; if the broker is down the rows wait for the sweeper (they are
    committed already), so the sender's 202 stays true."""
    from signals.tasks import process_signals_task

    for start in range(0, len(ids), PROCESS_CHUNK):
        chunk = list(ids[start : start + PROCESS_CHUNK])
        try:
            process_signals_task.apply_async(
                args=[chunk],
                # Celery would otherwise build a repr of the 500 ids for its logs, a fifth
                # of the cost of publishing (measured).
                argsrepr=f"[<{len(chunk)} signal ids from {chunk[0]}>]",
                retry=True,
                retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
            )
        except Exception:  # any broker failure: the sweeper picks them up
            log.warning("could not queue %d signals; the sweeper will process them", len(chunk))
            return


# --- processing ------------------------------------------------------------------------


def _ts(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def signals_process(ids: Iterable[int]) -> int:
    """Turn pending signals into facts, exactly once in effect; return how many."""
    ids = list(ids)
    done = 0
    for start in range(0, len(ids), PROCESS_CHUNK):
        chunk = ids[start : start + PROCESS_CHUNK]
        try:
            done += _process_chunk(chunk)
        except BAD_DATA:
            # One bad signal must not hold up the rest (nor loop in the sweeper forever):
            # process one by one and mark the ones that fail. Transient errors (the
            # database away) are not caught here: the task fails and the sweeper retries.
            log.exception("a chunk of %d signals failed; processing one by one", len(chunk))
            for pk in chunk:
                try:
                    done += _process_chunk([pk])
                except BAD_DATA as exc:
                    Signal.objects.filter(pk=pk, status=SignalStatus.PENDING).update(
                        status=SignalStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:300]
                    )
    return done


@transaction.atomic
def _process_chunk(ids: list[int]) -> int:
    # Locked, and skipped by anyone else holding them: two workers never both apply one.
    signals = list(
        Signal.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=ids, status=SignalStatus.PENDING, account__isnull=False)
        .order_by("pk")
    )
    if not signals:
        return 0
    now = clock.now()
    by_kind: dict[str, list[Signal]] = defaultdict(list)
    for s in signals:
        by_kind[s.kind].append(s)
    _apply_tickets(by_kind[Kind.TICKET])
    _apply_competitors(by_kind[Kind.COMPETITOR])
    _apply_sentiment(by_kind[Kind.SENTIMENT])
    _apply_usage(by_kind[Kind.USAGE])
    people = _apply_people(by_kind[Kind.ORG_CHANGE], now)
    Signal.objects.filter(pk__in=[s.pk for s in signals]).update(
        status=SignalStatus.PROCESSED, processed_version=F("version"), processed_at=now, error=""
    )
    rules.evaluate(signals, people=people, now=now)
    request_recompute({s.account_id for s in signals})
    return len(signals)


def _upsert(model: type, objs: list, unique: list[str], fields: list[str]) -> None:
    if objs:
        model.objects.bulk_create(
            objs, update_conflicts=True, unique_fields=unique, update_fields=fields
        )


def _apply_tickets(signals: list[Signal]) -> None:
    latest: dict[tuple[str, str], Ticket] = {}
    for s in signals:
        a = s.payload["attributes"]
        latest[(s.source, s.external_id)] = Ticket(
            account_id=s.account_id,
            source=s.source,
            external_id=s.external_id,
            kind=a.get("type") or "support",
            subject=a.get("subject", "")[:300],
            priority=a.get("priority", "normal"),
            status=a.get("status", "new"),
            tags=a.get("tags", []),
            requester_group=a.get("requester_group", ""),
            opened_at=s.occurred_at,
            solved_at=_ts(a.get("solved_at"))
            or (s.source_updated_at if a.get("status") in ("solved", "closed") else None),
        )
    _upsert(
        Ticket,
        list(latest.values()),
        ["source", "external_id"],
        [
            "account",
            "kind",
            "subject",
            "priority",
            "status",
            "tags",
            "requester_group",
            "opened_at",
            "solved_at",
        ],
    )


def _apply_competitors(signals: list[Signal]) -> None:
    objs = {
        (s.source, s.external_id): CompetitorEvent(
            account_id=s.account_id,
            competitor=s.payload["attributes"]["competitor"],
            activity=s.payload["attributes"]["activity"],
            note=s.payload["attributes"].get("note", ""),
            occurred_at=s.occurred_at,
            source=s.source,
            external_id=s.external_id,
        )
        for s in signals
    }
    _upsert(
        CompetitorEvent,
        list(objs.values()),
        ["source", "external_id"],
        ["account", "competitor", "activity", "note", "occurred_at"],
    )


def _apply_sentiment(signals: list[Signal]) -> None:
    objs = {
        (s.source, s.external_id): SentimentResponse(
            account_id=s.account_id,
            source=s.source,
            external_id=s.external_id,
            responded_at=s.occurred_at,
            nps=s.payload["attributes"].get("nps"),
            csat=s.payload["attributes"].get("csat"),
            comment=s.payload["attributes"].get("comment", ""),
        )
        for s in signals
    }
    _upsert(
        SentimentResponse,
        list(objs.values()),
        ["source", "external_id"],
        ["account", "responded_at", "nps", "csat", "comment"],
    )


def _apply_usage(signals: list[Signal]) -> None:
    objs: dict[tuple[int, dt.date], UsageSnapshot] = {}
    for s in sorted(signals, key=lambda s: s.occurred_at):
        day = s.occurred_at.date()
        week = day - dt.timedelta(days=day.weekday())
        a = s.payload["attributes"]
        objs[(s.account_id, week)] = UsageSnapshot(
            account_id=s.account_id,
            week=week,
            active_users=a["active_users"],
            licensed_users=a["licensed_users"],
            adoption=a.get("adoption"),
        )
    _upsert(
        UsageSnapshot,
        list(objs.values()),
        ["account", "week"],
        ["active_users", "licensed_users", "adoption"],
    )


def _apply_people(signals: list[Signal], now: dt.datetime) -> dict[int, rules.Person]:
    """People changes, recorded by ``accounts.services.people_changes_record`` (the one
    path every people change takes); returns signal pk → person (the contact, and the
    title before and after, for the rules)."""
    recorded = people_changes_record(
        [
            PeopleChangeIn(
                account_id=s.account_id,
                change=s.payload["attributes"]["change"],
                occurred_at=s.occurred_at,
                person=s.payload["attributes"].get("contact") or {},
                old_title=s.payload["attributes"].get("old_title") or "",
                new_title=s.payload["attributes"].get("new_title") or "",
                from_company=s.payload["attributes"].get("from_company") or "",
                source=s.source,
                external_id=s.external_id,
            )
            for s in signals
        ]
    )
    return {
        s.pk: rules.Person(r.contact, r.old_title, r.new_title)
        for s, r in zip(signals, recorded, strict=True)
    }


# --- sweeping and matching ---------------------------------------------------------------

SWEEP_GRACE = dt.timedelta(seconds=10)
IDEMPOTENCY_TTL = dt.timedelta(hours=24)


def signals_sweep(limit: int = 2000) -> tuple[int, bool]:
    """Process what a lost message left behind; release parked signals whose organisation
    is now known. Returns (processed, more_left)."""
    rematch_unmatched()
    IdempotencyRecord.objects.filter(created_at__lt=clock.now() - IDEMPOTENCY_TTL).delete()
    cutoff = clock.now() - SWEEP_GRACE
    ids = list(
        Signal.objects.filter(status=SignalStatus.PENDING, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = signals_process(ids)
    return done, len(ids) == limit


def rematch_unmatched(account: Account | None = None) -> int:
    """Give parked signals their account once their organisation's id is known."""
    parked = Signal.objects.filter(status=SignalStatus.UNMATCHED)
    if account is not None:
        keys = [k for k in (account.crm_id, account.helpdesk_org_id) if k]
        if not keys:
            return 0
        refs = {k: account.pk for k in keys}
        parked = parked.filter(org_ref__in=keys)
    else:
        org_refs = set(parked.values_list("org_ref", flat=True).distinct()[:5000])
        if not org_refs:
            return 0
        refs = {}
        for pk, crm, hd in Account.objects.filter(
            Q(crm_id__in=org_refs) | Q(helpdesk_org_id__in=org_refs)
        ).values_list("pk", "crm_id", "helpdesk_org_id"):
            refs.setdefault(hd, pk)
            refs[crm] = pk
        aliases = OrgAlias.objects.filter(org_ref__in=org_refs).values_list(
            "source", "org_ref", "account_id"
        )
        total = 0
        with transaction.atomic():
            for source, org_ref, account_id in aliases:
                total += _release(parked.filter(source=source, org_ref=org_ref), account_id)
            for org_ref, account_id in refs.items():
                if org_ref in org_refs:
                    total += _release(parked.filter(org_ref=org_ref), account_id)
        return total
    with transaction.atomic():
        return sum(_release(parked.filter(org_ref=k), pk) for k, pk in refs.items())


def _release(parked: Any, account_id: int) -> int:
    ids = list(parked.values_list("pk", flat=True))
    if not ids:
        return 0
    n = Signal.objects.filter(pk__in=ids, status=SignalStatus.UNMATCHED).update(
        account_id=account_id, status=SignalStatus.PENDING, org_ref=""
    )
    transaction.on_commit(lambda: publish_processing(ids))
    return n


@transaction.atomic
def org_match(*, source: str, org_ref: str, account: Account, by: User) -> int:
    """A person says which account an unknown organisation is; its parked signals (and
    every later one) go to that account. Returns how many signals were released."""
    if not (by.is_org_wide or by.is_superuser or can_change_account(by, account)):
        raise PermissionDenied("You may match organisations only to accounts you may change.")
    if not org_ref:
        raise ValidationError({"org_ref": "Which organisation?"})
    # Re-mapping moves every later signal of the organisation off its account: only someone
    # with rights on that account too (locked, so two re-maps do not cross).
    mapped = OrgAlias.objects.select_for_update().filter(source=source, org_ref=org_ref).first()
    if (
        mapped is not None
        and mapped.account_id != account.pk
        and not can_change_account(by, mapped.account)
    ):
        raise PermissionDenied(
            f"This organisation is matched to {mapped.account.name}; only someone who may "
            "change that account re-maps it."
        )
    alias, created = OrgAlias.objects.get_or_create(
        source=source,
        org_ref=org_ref,
        defaults={"account": account, "created_by": by, "created_at": clock.now()},
    )
    if not created and alias.account_id != account.pk:
        old = alias.account_id
        alias.account = account
        alias.save(update_fields=["account"])
        audit.record(
            actor=by,
            action="signals.org_rematched",
            target=alias,
            account_id=account.pk,
            changes={"account": (old, account.pk)},
        )
    elif created:
        audit.record(
            actor=by,
            action="signals.org_matched",
            target=alias,
            account_id=account.pk,
            changes={"account": (None, account.pk)},
            reason=f"{source} organisation {org_ref}",
        )
    return _release(
        Signal.objects.filter(status=SignalStatus.UNMATCHED, source=source, org_ref=org_ref),
        account.pk,
    )


# --- CSV uploads ------------------------------------------------------------------------


def signal_import_create(*, by: User, filename: str, content: bytes, kind: str) -> SignalImport:
    """Read and check a CSV (preview); nothing but the upload itself is written."""
    from signals.importing import build_plan

    if not can_import_accounts(by):
        raise PermissionDenied("Uploads are for team leads, the VP and the CEO.")
    plan = build_plan(content, kind=kind, by=by)  # ImportFileError for a bad file
    return SignalImport.objects.create(
        kind=kind,
        filename=filename[:255],
        content=content,
        status="previewed" if plan.ok else "invalid",
        total_rows=plan.total_rows,
        errors=[e.as_dict() for e in plan.errors[:2000]],
        created_by=by,
        created_at=clock.now(),
    )


@transaction.atomic
def signal_import_commit(*, upload: SignalImport, by: User) -> SignalImport:
    """Store every row of a previewed upload, or none. Race-safe: one commit per upload."""
    from signals.importing import apply_plan, build_plan

    if upload.created_by_id != by.pk:
        raise PermissionDenied("Only the person who uploaded this file may import it.")
    locked = SignalImport.objects.select_for_update().get(pk=upload.pk)
    if locked.status != "previewed":
        raise ValidationError("This upload cannot be imported (again).")
    # Checked again: the uploader's teams or the stored signals may have changed since.
    plan = build_plan(bytes(locked.content), kind=locked.kind, by=by)
    if not plan.ok:
        locked.status = "invalid"
        locked.errors = [e.as_dict() for e in plan.errors[:2000]]
        locked.save(update_fields=["status", "errors"])
        return locked
    try:
        accepted, duplicates = apply_plan(plan, by=by, upload_id=locked.pk)
    except ImportFileError as exc:
        raise ValidationError(str(exc)) from None
    locked.status, locked.accepted, locked.duplicates = "done", accepted, duplicates
    locked.save(update_fields=["status", "accepted", "duplicates"])
    audit.record(
        actor=by,
        action="signals.csv_imported",
        target=locked,
        changes={"accepted": (0, accepted)},
        reason=locked.filename,
    )
    return locked
