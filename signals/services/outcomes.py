"""What a request is told about each of its items: accepted, a duplicate, or rejected with
a reason (``Outcome``), and the answers for an item the checks or the database refused."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.db import DataError, IntegrityError

from signals import normalise
from signals.normalise import Unreadable
from signals.services.rows import Row

log = logging.getLogger(__name__)

ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
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


def rejected(index: int, raw: Any, reason: str) -> Outcome:
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


def refused(row: Row, exc: Exception) -> Outcome:
    """The answer for an item the database refused (a value the checks let through)."""
    log.warning("the database refused signal %s: %s", row[1].external_id, exc)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Outcome(
        row[0],
        REJECTED,
        row[1].external_id,
        reason=normalise.printable(f"the database refused this signal: {first_line}")[:300],
    )
