"""Planning a contacts file: every row matched to its account and existing contact and
checked; writes nothing."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from accounts.choices import ContactRole, ImportKind
from accounts.importing.cells import parse_choice
from accounts.importing.plan import PROGRESS_EVERY, Plan, ProgressFn, column_lists
from accounts.importing.reading import CONTACT_HEADERS
from accounts.models import Account, Contact
from accounts.rules import AccountScope
from csrisk.csvfiles import RowError
from csrisk.models import User
from csrisk.validators import control_character_reason

_ROLES = {
    "edm": ContactRole.EXECUTIVE_DECISION_MAKER,
    "executive_decision_maker": ContactRole.EXECUTIVE_DECISION_MAKER,
    "decision_maker": ContactRole.EXECUTIVE_DECISION_MAKER,
    "economic_buyer": ContactRole.EXECUTIVE_DECISION_MAKER,
    **{c.value: c for c in ContactRole},
}
_TRUE = {"yes", "y", "true", "1", "active", "current", "employed"}
_FALSE = {"no", "n", "false", "0", "left", "inactive", "former", "departed"}


def plan_contacts(
    frame: pd.DataFrame,
    columns: dict[str, str],
    *,
    by: User,
    progress: ProgressFn | None = None,
) -> Plan:
    """Validate every row of a contacts file; write nothing."""
    plan = Plan(ImportKind.CONTACTS, len(frame), columns, [])  # read_file checked columns

    data = column_lists(frame, columns, CONTACT_HEADERS)
    scope = AccountScope(by)  # the permission read once for the file, not once per row

    def col(name: str) -> list[str]:
        return data[name]

    acc_ids = {v for v in col("account_crm_id") if v}
    acc_names = {v for v in col("account_name") if v}
    accounts_by_crm = {a.crm_id: a for a in Account.objects.filter(crm_id__in=acc_ids)}
    accounts_by_name: dict[str, list[Account]] = {}
    for a in Account.objects.filter(name__in=acc_names):
        accounts_by_name.setdefault(a.name.lower(), []).append(a)
    touched = [a.pk for a in accounts_by_crm.values()] + [
        a.pk for group in accounts_by_name.values() for a in group
    ]
    contacts = list(Contact.objects.filter(account_id__in=touched))
    contact_crm_ids = {v for v in col("crm_id") if v}
    by_crm = {c.crm_id: c for c in Contact.objects.filter(crm_id__in=contact_crm_ids)}
    by_email = {(c.account_id, c.email.lower()): c for c in contacts if c.email}
    by_name = {(c.account_id, c.name.lower()): c for c in contacts}

    seen: dict[tuple[Any, ...], int] = {}
    for i in range(len(frame)):
        if progress and i % PROGRESS_EVERY == 0:
            progress(i)
        row_no = i + 2
        n_errors = len(plan.errors)
        account = None
        if col("account_crm_id")[i]:
            value = col("account_crm_id")[i]
            account = accounts_by_crm.get(value)
            if account is None:
                plan.errors.append(
                    RowError(row_no, columns["account_crm_id"], value, "no account has this CRM id")
                )
        elif col("account_name")[i]:
            value = col("account_name")[i]
            matches = accounts_by_name.get(value.lower(), [])
            if len(matches) != 1:
                why = (
                    "no account has this name" if not matches else "several accounts have this name"
                )
                plan.errors.append(RowError(row_no, columns["account_name"], value, why))
            else:
                account = matches[0]
        else:
            header = columns.get("account_crm_id") or columns["account_name"]
            plan.errors.append(RowError(row_no, header, "", "the account is required"))
        row: dict[str, Any] = {"name": col("name")[i]}
        if not row["name"]:
            plan.errors.append(RowError(row_no, columns["name"], "", "name is required"))
        elif why := control_character_reason(row["name"]):
            plan.errors.append(RowError(row_no, columns["name"], row["name"][:40], why))
        elif len(row["name"]) > 200:
            plan.errors.append(
                RowError(
                    row_no, columns["name"], row["name"][:40] + "…", "longer than 200 characters"
                )
            )
        email = col("email")[i]
        if email:
            if len(email) > 254:
                too_long = "longer than 254 characters"
                plan.errors.append(RowError(row_no, columns["email"], email[:40] + "…", too_long))
            elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
                plan.errors.append(
                    RowError(row_no, columns["email"], email, "not an e-mail address")
                )
            row["email"] = email
        if "title" in columns:
            row["title"] = col("title")[i][:200]
            if why := control_character_reason(row["title"]):
                plan.errors.append(RowError(row_no, columns["title"], row["title"][:40], why))
        if "roles" in columns:
            roles = []
            for part in re.split(r"[;,|/]", col("roles")[i]):
                if part.strip():
                    try:
                        roles.append(parse_choice(part, _ROLES, "role").value)
                    except ValueError as exc:
                        plan.errors.append(
                            RowError(row_no, columns["roles"], part.strip(), str(exc))
                        )
            row["roles"] = list(dict.fromkeys(roles))
        if "at_company" in columns and col("at_company")[i]:
            value = col("at_company")[i].lower()
            if value in _TRUE:
                row["at_company"] = True
            elif value in _FALSE:
                row["at_company"] = False
            else:
                plan.errors.append(
                    RowError(
                        row_no, columns["at_company"], value, "expected yes/no (or active/left)"
                    )
                )
        crm_id = col("crm_id")[i]
        if len(crm_id) > 64:
            plan.errors.append(
                RowError(row_no, columns["crm_id"], crm_id[:40] + "…", "longer than 64 characters")
            )
        if crm_id:
            row["crm_id"] = crm_id
            first = seen.setdefault(("crm", crm_id), row_no)
            if first != row_no:
                plan.errors.append(
                    RowError(
                        row_no, columns["crm_id"], crm_id, f"duplicate id: also on row {first}"
                    )
                )
        if account is not None and email:
            first = seen.setdefault(("email", account.pk, email.lower()), row_no)
            if first != row_no:
                plan.errors.append(
                    RowError(
                        row_no, columns["email"], email, f"duplicate contact: also on row {first}"
                    )
                )
        if len(plan.errors) > n_errors or account is None:
            continue
        if not scope.can_change(account):
            header = columns.get("account_crm_id") or columns["account_name"]
            plan.errors.append(
                RowError(row_no, header, account.name, "you may not change this account")
            )
            continue
        existing = (
            (by_crm.get(crm_id) if crm_id else None)
            or (by_email.get((account.pk, email.lower())) if email else None)
            or by_name.get((account.pk, row["name"].lower()))
        )
        if existing is not None and existing.account_id != account.pk:
            plan.errors.append(
                RowError(
                    row_no,
                    columns.get("crm_id", "crm_id"),
                    crm_id,
                    "this contact belongs to another account",
                )
            )
            continue
        row["account"] = account
        if existing is None:
            plan.creates.append(row)
        else:
            plan.updates.append((existing, row))
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan
