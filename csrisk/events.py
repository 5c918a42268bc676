"""Domain events: how news travels against the import arrows (see STYLE.md).

Senders call ``emit_on_commit`` inside their transaction; receivers (each app's
receivers.py) run after the commit, so nobody reacts to a change that was rolled back.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal

# A scorecard colour changed: account_id, area ("overall" or an area code), old, new, at,
# cause, reason.
color_changed = Signal()
# An override ran out and the computed colour is back: account_id, area, color, set_by_id.
override_expired = Signal()


def emit_on_commit(signal: Signal, **payload: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=None, **payload))
