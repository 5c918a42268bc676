"""Signals stored before: look them up by key (``known_signals``, ``stored_senders``) and store
a newer version over the stored one (``update_version``), keeping the old one as a
``SignalVersion`` and refusing what its sender may not replace (signals.provenance)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection
from django.db.models import F

from signals.models import Signal, SignalVersion
from signals.provenance import Sender
from signals.services.copying import stored_pg
from signals.services.outcomes import ACCEPTED, REJECTED, Outcome
from signals.services.rows import Row


def known_signals(keys: set[tuple[str, str]]) -> dict[tuple[str, str], Signal]:
    """The stored signals with these keys (the fields the comparison and provenance need)."""
    if not keys:
        return {}
    found: dict[tuple[str, str], Signal] = {}
    fields = (
        "pk", "source", "external_id", "month", "digest", "version", "source_updated_at",
        "sent_via", "sent_by_id", "sent_bound", "sender",
    )  # fmt: skip
    if connection.vendor == "postgresql":
        rows = stored_pg(
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
    return known_signals(set(keys))


def update_version(signal: Signal, row: Row, now: dt.datetime, sender: Sender) -> Outcome | None:
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
