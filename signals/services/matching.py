"""Which account an external organisation is: ``resolve_orgs`` for a batch (CRM id, help-desk
id, a HubSpot company id written ``hubspot:<id>``, then the aliases people made);
``org_match`` (a person says which account an unknown organisation is) and
``rematch_unmatched`` (an account gained that external id) release the signals and daily
usage parked for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q

from accounts.models import Account, DailyUsage
from accounts.rules import can_change_account
from csrisk import audit, clock
from csrisk.models import User
from signals.adapters import HUBSPOT_COMPANY
from signals.choices import SignalStatus
from signals.models import OrgAlias, Signal
from signals.normalise import Head, Item
from signals.services.processing import publish_processing


def _hubspot_refs(refs: set[str]) -> dict[str, int]:
    """``hubspot:<company id>`` refs → account ids, by the accounts' HubSpot company ids (a
    prefix of its own, so a HubSpot id never meets a help-desk id that looks the same)."""
    ids = {r[len(HUBSPOT_COMPANY) :]: r for r in refs if r.startswith(HUBSPOT_COMPANY)}
    if not ids:
        return {}
    return {
        ids[company]: pk
        for pk, company in Account.objects.filter(hubspot_company_id__in=ids).values_list(
            "pk", "hubspot_company_id"
        )
    }


def account_refs(account: Account) -> list[str]:
    """Every organisation key that names ``account``: its CRM id, help-desk id and
    ``hubspot:<company id>``."""
    keys = [account.crm_id, account.helpdesk_org_id]
    if account.hubspot_company_id:
        keys.append(HUBSPOT_COMPANY + account.hubspot_company_id)
    return [k for k in keys if k]


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
        found.update(_hubspot_refs(refs))
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


def rematch_unmatched(account: Account | None = None) -> int:
    """Give parked signals their account once their organisation's id is known."""
    parked = Signal.objects.filter(status=SignalStatus.UNMATCHED)
    if account is not None:
        keys = account_refs(account)
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
        refs.update(_hubspot_refs(org_refs))
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
        usage_release(None, keys, account.pk)
        return sum(_release(parked.filter(org_ref=k), pk) for k, pk in refs.items())


def usage_release(source: str | None, org_refs: Sequence[str], account_id: int) -> int:
    """Give the parked daily usage of these organisations (any source, or ``source``'s) its
    account; returns how many days."""
    parked = DailyUsage.objects.filter(account__isnull=True, org_ref__in=list(org_refs))
    if source is not None:
        parked = parked.filter(source=source)
    days = set(parked.values_list("day", flat=True))
    n = parked.update(account_id=account_id)
    if n:
        # Imported here: the rollup (signals.services.usage) resolves organisations here.
        from signals.services.usage import usage_weeks_record

        usage_weeks_record({account_id: days})
    return n


def parked_move(source: str, old_ref: str, new_ref: str) -> int:
    """Signals parked under ``old_ref`` now belong to the organisation ``new_ref`` (a
    HubSpot contact whose company just became known); released at once when an account
    has that key. Returns how many were released."""
    moved = Signal.objects.filter(status=SignalStatus.UNMATCHED, source=source, org_ref=old_ref)
    if not moved.update(org_ref=new_ref):
        return 0
    found, _ = resolve_orgs([Head("org_change", source, "", None, new_ref)])
    if new_ref not in found:
        return 0
    return _release(
        Signal.objects.filter(status=SignalStatus.UNMATCHED, source=source, org_ref=new_ref),
        found[new_ref],
    )


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
    usage_release(source, [org_ref], account.pk)
    return _release(
        Signal.objects.filter(status=SignalStatus.UNMATCHED, source=source, org_ref=org_ref),
        account.pk,
    )
