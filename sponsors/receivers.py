"""Reactions to events from below (see csrisk/events.py)."""

from __future__ import annotations

from typing import Any

from sponsors import services


def on_accounts_changed(sender: Any, **event: Any) -> None:
    """A new account, or an ARR, tier or stage change, may make an account eligible."""
    services.eligibility_check(event.get("account_ids"))
