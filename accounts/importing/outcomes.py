"""Renewal outcomes (the backtest's ground truth): a small CSV of what each renewal became."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db import transaction

from accounts.choices import RenewalOutcomeKind
from accounts.importing.cells import date_reason, parse_dates, parse_money
from accounts.importing.plan import add_cell_errors
from accounts.importing.reading import ImportFileError
from accounts.models import Account, RenewalOutcome
from csrisk.csvfiles import RowError, check_cells, normalise_header, read_csv

OUTCOME_FIELDS = ("crm_id", "renewal_date", "outcome", "arr_before", "arr_after")


@dataclass
class OutcomePlan:
    """What an outcomes import would write: one row per (account, renewal date)."""

    total_rows: int
    errors: list[RowError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)


def plan_outcomes(content: bytes, *, encoding: str = "utf-8") -> OutcomePlan:
    """Validate a ``crm_id,renewal_date,outcome[,arr_before,arr_after]`` CSV row by row."""
    frame, bad_cells = check_cells(read_csv(content, encoding=encoding))
    frame.columns = [normalise_header(c) for c in frame.columns]
    missing = [c for c in OUTCOME_FIELDS[:3] if c not in frame.columns]
    if missing:
        raise ImportFileError(f"Missing column(s): {', '.join(missing)}.")
    plan = OutcomePlan(total_rows=len(frame))
    accounts = dict(
        Account.objects.filter(crm_id__in=list(frame["crm_id"])).values_list("crm_id", "pk")
    )
    seen: dict[tuple[int, str], int] = {}
    for i, rec in enumerate(frame.to_dict("records"), start=2):
        errors: list[RowError] = []
        crm_id = rec["crm_id"]
        account_id = accounts.get(crm_id)
        if not crm_id:
            errors.append(RowError(i, "crm_id", crm_id, "required"))
        elif account_id is None:
            errors.append(RowError(i, "crm_id", crm_id, "no account has this CRM id"))
        day = rec["renewal_date"]
        parsed, bad = parse_dates(pd.Series([day], dtype=str))
        if not day or bad.iloc[0]:
            errors.append(RowError(i, "renewal_date", day, date_reason(day) if day else "required"))
        outcome = rec["outcome"].lower()
        if outcome not in RenewalOutcomeKind.values:
            errors.append(
                RowError(
                    i,
                    "outcome",
                    rec["outcome"],
                    f"expected one of {', '.join(RenewalOutcomeKind.values)}",
                )
            )
        money: dict[str, Decimal | None] = {}
        for col in ("arr_before", "arr_after"):
            value = rec.get(col, "") or ""
            try:
                money[col] = parse_money(value) if value else None
            except ValueError as exc:
                errors.append(RowError(i, col, value, str(exc)))
        if not errors:
            key = (account_id, day[:10])
            if key in seen:
                errors.append(
                    RowError(i, "renewal_date", day, f"same account and date as row {seen[key]}")
                )
            seen[key] = i
        if errors:
            plan.errors.extend(errors)
            continue
        plan.rows.append(
            {
                "account_id": account_id,
                "renewal_date": parsed.iloc[0].date(),
                "outcome": outcome,
                **money,
            }
        )
    add_cell_errors(plan, bad_cells)
    if plan.errors:
        plan.rows = []
    return plan


@transaction.atomic
def apply_outcomes(plan: OutcomePlan) -> tuple[int, int]:
    """Write the plan: a renewal already on record is updated. Returns (created, updated)."""
    created = updated = 0
    for row in plan.rows:
        _, was_created = RenewalOutcome.objects.update_or_create(
            account_id=row["account_id"],
            renewal_date=row["renewal_date"],
            defaults={k: row[k] for k in ("outcome", "arr_before", "arr_after")},
        )
        created += was_created
        updated += not was_created
    return created, updated
