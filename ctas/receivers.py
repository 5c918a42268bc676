"""Reactions to domain events from below (see csrisk/events.py)."""

from __future__ import annotations

from typing import Any

from ctas.services import alerts


def on_color_changed(sender: Any, **event: Any) -> None:
    """Alert on change: the overall colour turned red or left red."""
    if event["area"] != "overall":
        return
    alerts.alert_color_change(
        account_id=event["account_id"],
        old=event["old"],
        new=event["new"],
        reason=event.get("reason", ""),
        cause=event.get("cause", "measures"),
    )
