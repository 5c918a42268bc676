"""Reactions to domain events from below (see csrisk/events.py)."""

from __future__ import annotations

from typing import Any

from csrisk import events
from ctas.services import alerts


def on_color_changed(sender: Any, **event: Any) -> None:
    """Alert on change: the overall colour turned red or left red."""
    if event["area"] != "overall":
        return
    # A recompute's changes arrive as one batch (events.emit_all_on_commit): they are
    # alerted together, with one read of the accounts, flags and preferences.
    events.coalesce("ctas:alert-colour", alerts.alert_color_changes, event)
