"""Planning an accounts file: every row checked against the book (ids, names, owners,
teams, the importer's rights) and sorted into creates and updates; writes nothing."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pandas as pd

from accounts.choices import ImportKind, LifecycleStage, Segment, Tier
from accounts.importing.cells import date_reason, parse_choice, parse_dates, parse_money
from accounts.importing.plan import PROGRESS_EVERY, Plan, ProgressFn, column_lists
from accounts.importing.reading import ACCOUNT_HEADERS
from accounts.models import Account
from accounts.rules import AccountScope
from csrisk.csvfiles import RowError
from csrisk.models import Team, User
from csrisk.validators import control_character_reason

_SEGMENTS = {
    "smb": Segment.SMB,
    "small_business": Segment.SMB,
    "small": Segment.SMB,
    "mid_market": Segment.MID_MARKET,
    "midmarket": Segment.MID_MARKET,
    "mm": Segment.MID_MARKET,
    "mid": Segment.MID_MARKET,
    "enterprise": Segment.ENTERPRISE,
    "ent": Segment.ENTERPRISE,
    "strategic": Segment.STRATEGIC,
    "key": Segment.STRATEGIC,
}
_TIERS = {
    "": Tier.NONE,
    "none": Tier.NONE,
    "no": Tier.NONE,
    "enterprise": Tier.ENTERPRISE,
    "high_touch": Tier.ENTERPRISE,
    "strategic": Tier.STRATEGIC,
    "ultra_high_touch": Tier.STRATEGIC,
}


def plan_accounts(
    frame: pd.DataFrame,
    columns: dict[str, str],
    *,
    by: User,
    progress: ProgressFn | None = None,
) -> Plan:
    """Validate every row of an accounts file against the book; write nothing."""
    plan = Plan(ImportKind.ACCOUNTS, len(frame), columns, [])

    data = column_lists(frame, columns, ACCOUNT_HEADERS)

    def col(name: str) -> list[str]:
        return data[name]

    line = [i + 2 for i in range(len(frame))]  # the header is line 1

    # Vectorised checks first: money and dates for the whole column at once.
    arr_col = col("arr")
    arr_values: list[Decimal | None] = []
    for i, raw in enumerate(arr_col):
        try:
            arr_values.append(parse_money(raw))
        except ValueError as exc:
            arr_values.append(None)
            plan.errors.append(RowError(int(line[i]), columns["arr"], raw, str(exc)))
    dates = {}
    for name in ("renewal_date", "customer_since"):
        if name in columns:
            parsed, bad = parse_dates(frame[columns[name]].reset_index(drop=True))
            dates[name] = list(parsed)
            for i in bad[bad].index:
                raw = col(name)[i]
                plan.errors.append(RowError(int(line[i]), columns[name], raw, date_reason(raw)))

    # Lookups: one query each, however many rows.
    crm_ids = [v for v in col("crm_id") if v]
    hd_ids = [v for v in col("helpdesk_org_id") if v]
    names = [v for v in col("name") if v]
    by_crm = {a.crm_id: a for a in Account.objects.filter(crm_id__in=crm_ids)} if crm_ids else {}
    by_hd = (
        {a.helpdesk_org_id: a for a in Account.objects.filter(helpdesk_org_id__in=hd_ids)}
        if hd_ids
        else {}
    )
    by_name: dict[str, list[Account]] = {}
    if "crm_id" not in columns:
        for a in Account.objects.filter(name__in=names):
            by_name.setdefault(a.name.lower(), []).append(a)
    scope = AccountScope(by)  # the permission read once for the file, not once per row
    emails = {v.lower() for v in col("owner_email") if v}
    owners = (
        {
            u.email.lower(): u
            for u in User.objects.filter(email__in=list(emails)).select_related("team")
        }
        if emails
        else {}
    )
    owners |= {
        u.username.lower(): u
        for u in User.objects.filter(username__in=list(emails)).select_related("team")
    }
    teams = {t.name.lower(): t for t in Team.objects.all()}

    seen: dict[tuple[str, str], int] = {}
    for i in range(len(frame)):
        if progress and i % PROGRESS_EVERY == 0:
            progress(i)
        row_no = int(line[i])
        errors_before = len(plan.errors)
        row: dict[str, Any] = {}

        name = col("name")[i]
        if not name:
            plan.errors.append(RowError(row_no, columns["name"], "", "name is required"))
        elif len(name) > 200:
            plan.errors.append(
                RowError(row_no, columns["name"], name[:40] + "…", "longer than 200 characters")
            )
        elif why := control_character_reason(name):
            plan.errors.append(RowError(row_no, columns["name"], name[:40], why))
        row["name"] = name
        row["arr"] = arr_values[i]
        for key in ("crm_id", "helpdesk_org_id"):
            value = col(key)[i]
            if len(value) > 64:
                plan.errors.append(
                    RowError(row_no, columns[key], value[:40], "longer than 64 characters")
                )
            if value:
                row[key] = value
                first = seen.setdefault((key, value), row_no)
                if first != row_no:
                    plan.errors.append(
                        RowError(row_no, columns[key], value, f"duplicate id: also on row {first}")
                    )
        if "crm_id" not in columns and name:
            first = seen.setdefault(("name", name.lower()), row_no)
            if first != row_no:
                plan.errors.append(
                    RowError(
                        row_no,
                        columns["name"],
                        name,
                        f"duplicate account name: also on row {first}",
                    )
                )
        for key, table, what in (
            ("segment", _SEGMENTS, "segment"),
            ("tier", _TIERS, "tier"),
            ("lifecycle_stage", {c.value: c for c in LifecycleStage}, "lifecycle stage"),
        ):
            value = col(key)[i]
            if key in columns and (value or key == "tier"):
                try:
                    row[key] = parse_choice(value, table, what)
                except ValueError as exc:
                    plan.errors.append(RowError(row_no, columns[key], value, str(exc)))
        if "currency" in columns:
            value = col("currency")[i].upper()
            if value and not re.fullmatch(r"[A-Z]{3}", value):
                plan.errors.append(
                    RowError(
                        row_no, columns["currency"], value, "expected a 3-letter currency code"
                    )
                )
            elif value:
                row["currency"] = value
        for key in ("renewal_date", "customer_since"):
            if key in dates and col(key)[i]:
                stamp = dates[key][i]
                if not pd.isna(stamp):
                    row[key] = stamp.date()
        if "industry" in columns:
            row["industry"] = col("industry")[i][:100]
        owner = None
        if "owner_email" in columns:
            value = col("owner_email")[i]
            if value:
                owner = owners.get(value.lower())
                if owner is None:
                    plan.errors.append(
                        RowError(
                            row_no, columns["owner_email"], value, "no csrisk user has this e-mail"
                        )
                    )
                else:
                    row["owner"] = owner
                    row["team"] = owner.team
        if "team" in columns and col("team")[i]:
            value = col("team")[i]
            team = teams.get(value.lower())
            if team is None:
                plan.errors.append(RowError(row_no, columns["team"], value, "no such team"))
            else:
                row["team"] = team

        # Which account does this row update, if any?
        existing = None
        if row.get("crm_id"):
            existing = by_crm.get(row["crm_id"])
        if existing is None and row.get("helpdesk_org_id"):
            existing = by_hd.get(row["helpdesk_org_id"])
            if existing is not None and existing.crm_id and row.get("crm_id"):
                plan.errors.append(
                    RowError(
                        row_no,
                        columns["helpdesk_org_id"],
                        row["helpdesk_org_id"],
                        f"belongs to account {existing.crm_id}, not {row['crm_id']}",
                    )
                )
        if existing is None and "crm_id" not in columns and name:
            matches = by_name.get(name.lower(), [])
            if len(matches) > 1:
                plan.errors.append(
                    RowError(
                        row_no,
                        columns["name"],
                        name,
                        "several accounts have this name; add a crm_id column",
                    )
                )
            elif matches:
                existing = matches[0]

        if len(plan.errors) > errors_before:
            continue
        # Permission per row: a team lead imports only into the teams they lead.
        if existing is not None and not scope.can_change(existing):
            plan.errors.append(
                RowError(row_no, columns["name"], name, "you may not change this account")
            )
            continue
        if "owner" in row and not scope.can_reassign_to(owner):
            plan.errors.append(
                RowError(
                    row_no,
                    columns["owner_email"],
                    col("owner_email")[i],
                    "you may only assign accounts to people of your own teams",
                )
            )
            continue
        if (
            existing is None
            and not by.is_org_wide
            and not scope.can_change(Account(owner=row.get("owner"), team=row.get("team")))
        ):
            plan.errors.append(
                RowError(
                    row_no, columns["name"], name, "a new account needs an owner in your own teams"
                )
            )
            continue
        # A new account's home is its owner's team (the importer's without one); any other
        # team, or another team for an existing account, is a move (accounts.rules).
        home = existing.team_id if existing is not None else (row.get("owner") or by).team_id
        team = row.get("team")
        if "team" in row and not scope.can_move(home, team.pk if team else None):
            key = "team" if "team" in columns and col("team")[i] else "owner_email"
            plan.errors.append(
                RowError(
                    row_no,
                    columns[key],
                    col(key)[i],
                    "only a team lead (between teams they lead), the VP or the CEO moves an "
                    "account to another team",
                )
            )
            continue
        if existing is None:
            plan.creates.append(row)
        else:
            plan.updates.append((existing, row))
    plan.errors.sort(key=lambda e: (e.row, e.column))
    return plan
