"""Backfills: imports of history (a REST batch or webhook with ``?backfill=true``, a CSV
upload marked as history, ``manage.py import_signals``).

A backfill's signals update facts, colours and history like any other, but they are not
news: what they change, dated before the backfill started, alerts nobody. The decision has
two halves, each in one place:

- which signals are history — ``split`` here: a signal whose current version a backfill
  sent, dated (occurred or updated at the source) before that backfill started;
- which colour changes are news — ``csrisk.events.is_news``: every change but those whose
  cause is ``events.BACKFILL``, which is what ``settle`` recomputes history with.

``settle`` recomputes the accounts history touched at once (cause ``backfill``), before the
rules run, so a rule CTA's own recompute finds the colours settled; then the rules run in
history mode: a CTA opens only for what is still true now (``rules.evaluate``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import F

from csrisk import audit, clock, events
from csrisk.models import User
from scorecards.services import recompute
from signals import rules
from signals.models import Backfill, Signal
from signals.normalise import Invalid
from signals.provenance import Sender
from signals.services.outcomes import ACCEPTED, DUPLICATE, REJECTED, Outcome

TRUE = {"1", "true", "yes", "on"}
FALSE = {"", "0", "false", "no", "off"}


def wanted(value: str | None) -> bool:
    """A request's ``backfill`` flag as a yes or no; Invalid for anything else."""
    word = (value or "").strip().lower()
    if word in TRUE:
        return True
    if word in FALSE:
        return False
    raise Invalid(f"backfill={value!r}: use true or false")


def backfill_start(*, via: str, sender: Sender, by: User | None, source: str = "") -> Backfill:
    """Open a backfill now (its start is the line between history and news), with its
    audit row: who did it, how."""
    backfill = Backfill.objects.create(
        via=via,
        source=source[:200],
        started_at=clock.now(),
        created_by=by if by is not None and by.pk else None,
        sender=sender.label[:200],
    )
    audit.record(
        actor=backfill.created_by,
        action="signals.backfill_started",
        target=backfill,
        reason=f"{backfill.get_via_display()} by {backfill.sender}",
    )
    return backfill


def backfill_continued(pk: Any, *, sender: Sender) -> Backfill:
    """The open backfill ``pk`` that this sender started (a long backfill over many
    requests); Invalid when there is none."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Invalid(f"backfill_id={pk!r} is not a number") from None
    found = Backfill.objects.filter(pk=pk, finished_at__isnull=True, sender=sender.label[:200])
    backfill = found.first()
    if backfill is None:
        raise Invalid(f"no open backfill #{pk} of this sender; start one with backfill=true")
    return backfill


def backfill_record(backfill: Backfill, outcomes: Sequence[Outcome]) -> None:
    """Count a stored batch into its backfill and mark its accepted signals as history
    (in the caller's transaction, before processing is queued on commit)."""
    accepted = [o.id for o in outcomes if o.status == ACCEPTED and o.id is not None]
    if accepted:
        Signal.objects.filter(pk__in=accepted).update(backfill=backfill)
    Backfill.objects.filter(pk=backfill.pk).update(
        sent=F("sent") + len(outcomes),
        accepted=F("accepted") + len(accepted),
        duplicates=F("duplicates") + sum(o.status == DUPLICATE for o in outcomes),
        rejected=F("rejected") + sum(o.status == REJECTED for o in outcomes),
    )
    if accepted and not backfill.source:
        named = Signal.objects.filter(pk__in=accepted).values_list("source", flat=True)
        backfill.source = ", ".join(sorted(set(named)))[:200]
        Backfill.objects.filter(pk=backfill.pk).update(source=backfill.source)


def news_record(outcomes: Sequence[Outcome]) -> None:
    """A batch that is news: a later version of a signal a backfill sent is news again."""
    updated = [o.id for o in outcomes if o.status == ACCEPTED and o.id and (o.version or 1) > 1]
    if updated:
        Signal.objects.filter(pk__in=updated, backfill__isnull=False).update(backfill=None)


def backfill_finish(backfill: Backfill) -> None:
    """Everything of a file is stored (its processing may still run)."""
    Backfill.objects.filter(pk=backfill.pk, finished_at__isnull=True).update(
        finished_at=clock.now()
    )


def dated(signal: Signal) -> dt.datetime:
    """When a signal's current version happened at its source (opened, or last updated)."""
    updated = signal.source_updated_at
    return max(signal.occurred_at, updated) if updated else signal.occurred_at


def split(signals: Sequence[Signal]) -> list[tuple[list[Signal], bool]]:
    """The signals as (group, is_history), history first; empty groups left out."""
    ids = {s.backfill_id for s in signals if s.backfill_id}
    if not ids:
        return [(list(signals), False)]
    started = dict(Backfill.objects.filter(pk__in=ids).values_list("pk", "started_at"))
    history: list[Signal] = []
    news: list[Signal] = []
    for s in signals:
        start = started.get(s.backfill_id) if s.backfill_id else None
        (history if start is not None and dated(s) < start else news).append(s)
    return [(group, is_history) for group, is_history in ((history, True), (news, False)) if group]


def settle(signals: Sequence[Signal], *, people: dict[int, rules.Person], now: dt.datetime) -> None:
    """History's facts are in: recompute its accounts now, quietly (cause ``backfill``), then
    open rule CTAs only for what is still true now."""
    recompute({s.account_id for s in signals if s.account_id}, cause=events.BACKFILL)
    rules.evaluate(signals, people=people, now=now, history=True)
