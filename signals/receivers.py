"""Django signal handlers of the signals app (named receivers.py so nobody confuses them
with the app): an account that gains an external id releases its parked signals."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account


def account_saved(sender: type, instance: Account, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw") or not (
        instance.crm_id or instance.helpdesk_org_id or instance.hubspot_company_id
    ):
        return
    from signals.services import rematch_unmatched

    transaction.on_commit(lambda: rematch_unmatched(instance))
