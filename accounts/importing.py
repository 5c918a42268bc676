"""CSV import of accounts and contacts: read, map headers, validate every row, then apply.

Reading and validation write nothing. ``apply_plan`` writes everything in one transaction
or nothing at all. Re-importing the same file updates rows by external id (CRM id, then
help-desk id, then exact name) instead of creating duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd
from django.db import models, transaction

from accounts.choices import (
    ContactRole,
    ImportKind,
    LifecycleStage,
    PeopleChangeKind,
    RenewalOutcomeKind,
    Segment,
    Tier,
)
from accounts.models import Account, Contact, RenewalOutcome
from accounts.rules import AccountScope
from accounts.services import PeopleChangeIn, people_changes_record
from csrisk import audit, clock
from csrisk.csvfiles import (
    CsvFileError,
    RowError,
    check_cells,
    normalise_header,
    read_csv,
)
from csrisk.csvfiles import check_size as check_size  # re-exported for the upload views
from csrisk.models import AuditEntry, Team, User
from csrisk.validators import control_character_reason

# field -> header names recognised for it (compared after normalising: lower case,
# non-alphanumerics to "_"). A user mapping {field: header} takes precedence.
ACCOUNT_HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "account_name",
        "account",
        "company",
        "company_name",
        "organization",
        "organisation",
        "customer",
        "customer_name",
    ),
    "arr": (
        "arr",
        "annual_revenue",
        "annualrevenue",
        "annual_recurring_revenue",
        "acv",
        "contract_value",
        "arr_usd",
    ),
    "currency": ("currency", "currency_code", "currencyisocode", "currency_iso_code"),
    "renewal_date": (
        "renewal_date",
        "renewal",
        "next_renewal",
        "next_renewal_date",
        "contract_end_date",
        "contract_end",
        "renewal_on",
    ),
    "crm_id": (
        "crm_id",
        "crmid",
        "salesforce_id",
        "sfdc_id",
        "account_id",
        "external_id",
        "hubspot_id",
        "id",
    ),
    "helpdesk_org_id": (
        "helpdesk_org_id",
        "helpdesk_id",
        "zendesk_org_id",
        "zendesk_organization_id",
        "organization_id",
    ),
    "segment": ("segment", "customer_segment", "market_segment"),
    "tier": ("tier", "sponsor_tier", "service_tier"),
    "owner_email": (
        "owner_email",
        "csm_email",
        "account_owner_email",
        "owner",
        "csm",
        "account_owner",
    ),
    "team": ("team", "cs_team", "team_name"),
    "lifecycle_stage": ("lifecycle_stage", "lifecycle", "stage"),
    "industry": ("industry", "vertical"),
    "customer_since": ("customer_since", "start_date", "contract_start_date", "since"),
}
ACCOUNT_REQUIRED = ("name", "arr")

CONTACT_HEADERS: dict[str, tuple[str, ...]] = {
    "account_crm_id": ("account_crm_id", "account_id", "account_external_id", "crm_account_id"),
    "account_name": ("account_name", "account", "company", "company_name"),
    "name": ("name", "contact_name", "full_name", "contact"),
    "email": ("email", "contact_email", "email_address", "e_mail"),
    "title": ("title", "job_title", "position"),
    "roles": ("roles", "role", "contact_roles", "contact_role"),
    "at_company": ("at_company", "still_at_company", "active", "status", "employment_status"),
    "crm_id": ("crm_id", "contact_id", "contact_crm_id", "salesforce_id", "id"),
}
CONTACT_REQUIRED = ("name",)

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
_ROLES = {
    "edm": ContactRole.EXECUTIVE_DECISION_MAKER,
    "executive_decision_maker": ContactRole.EXECUTIVE_DECISION_MAKER,
    "decision_maker": ContactRole.EXECUTIVE_DECISION_MAKER,
    "economic_buyer": ContactRole.EXECUTIVE_DECISION_MAKER,
    **{c.value: c for c in ContactRole},
}
_TRUE = {"yes", "y", "true", "1", "active", "current", "employed"}
_FALSE = {"no", "n", "false", "0", "left", "inactive", "former", "departed"}
_CURRENCY_JUNK = re.compile(r"[\s,$€£¥]|^[A-Z]{3}\s*|\s*[A-Z]{3}$")
BATCH = 1000
PROGRESS_EVERY = 1000  # rows between progress reports while checking a file
ProgressFn = Callable[[int], None]


# The reading is shared by every CSV import (csrisk.csvfiles); the old names stay here.
ImportFileError = CsvFileError


@dataclass
class Plan:
    """What an import would do: rows to create and update, or the errors that stop it."""

    kind: str
    total_rows: int
    columns: dict[str, str]  # field -> header used
    ignored_columns: list[str]
    errors: list[RowError] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    updates: list[tuple[Any, dict[str, Any]]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def map_columns(
    frame: pd.DataFrame,
    known: dict[str, tuple[str, ...]],
    required: Iterable[str],
    overrides: dict[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """Return {field: header} and the headers left unused; refuse a missing required one."""
    by_norm: dict[str, str] = {}
    for header in frame.columns:
        by_norm.setdefault(normalise_header(header), header)
    columns: dict[str, str] = {}
    for fld, header in (overrides or {}).items():
        if fld not in known:
            raise ImportFileError(
                f"Unknown field {fld!r} in the column mapping; fields are: {', '.join(known)}."
            )
        if header not in frame.columns:
            raise ImportFileError(f"The mapping names column {header!r}, which is not in the file.")
        columns[fld] = header
    used = set(columns.values())
    for fld, aliases in known.items():
        if fld in columns:
            continue
        for alias in aliases:
            header = by_norm.get(alias)
            if header is not None and header not in used:
                columns[fld] = header
                used.add(header)
                break
    missing = [f for f in required if f not in columns]
    if missing:
        hints = "; ".join(f"{f}: one of {', '.join(known[f][:4])}" for f in missing)
        raise ImportFileError(f"Missing required column(s) — {hints}.")
    return columns, [str(h) for h in frame.columns if h not in used]


def detect_kind(frame: pd.DataFrame) -> str:
    """Contacts files have e-mail or title columns and no ARR; everything else is accounts."""
    norm = {normalise_header(h) for h in frame.columns}
    has_arr = bool(norm & set(ACCOUNT_HEADERS["arr"]))
    has_person = bool(norm & (set(CONTACT_HEADERS["email"]) | set(CONTACT_HEADERS["title"])))
    return ImportKind.CONTACTS if has_person and not has_arr else ImportKind.ACCOUNTS


# --- cell parsers: value -> parsed, or raise ValueError(reason) ------------------------


def parse_money(value: str) -> Decimal:
    cleaned = _CURRENCY_JUNK.sub("", value)
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not amount.is_finite():
        raise ValueError("not a number")
    if amount < 0:
        raise ValueError("ARR cannot be negative")
    if amount >= Decimal("1e12"):
        raise ValueError("ARR is implausibly large (≥ 1,000,000,000,000)")
    return amount.quantize(Decimal("0.01"))


def parse_dates(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO dates (YYYY-MM-DD, or with a time). Returns (dates, bad mask) vectorised."""
    parsed = pd.to_datetime(series.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    bad = parsed.isna() & (series != "")
    return parsed, bad


def _date_reason(value: str) -> str:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}.*", value):
        return "not a real calendar date"
    return "expected a date as YYYY-MM-DD"


def _choice(value: str, table: dict[str, Any], what: str) -> Any:
    key = normalise_header(value)
    if key not in table:
        raise ValueError(
            f"unknown {what}; use one of {', '.join(sorted(set(map(str, table.values()))))}"
        )
    return table[key]


# --- accounts ------------------------------------------------------------------------------


def _column_lists(
    frame: pd.DataFrame, columns: dict[str, str], known: dict[str, tuple[str, ...]]
) -> dict[str, list[str]]:
    """Every known field as a list of strings ("" where the file has no such column)."""
    blank = [""] * len(frame)
    return {f: frame[columns[f]].tolist() if f in columns else blank for f in known}


def plan_accounts(
    frame: pd.DataFrame,
    columns: dict[str, str],
    *,
    by: User,
    progress: ProgressFn | None = None,
) -> Plan:
    """Validate every row of an accounts file against the book; write nothing."""
    plan = Plan(ImportKind.ACCOUNTS, len(frame), columns, [])

    data = _column_lists(frame, columns, ACCOUNT_HEADERS)

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
                plan.errors.append(RowError(int(line[i]), columns[name], raw, _date_reason(raw)))

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
                    row[key] = _choice(value, table, what)
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


# --- contacts ------------------------------------------------------------------------------


def plan_contacts(
    frame: pd.DataFrame,
    columns: dict[str, str],
    *,
    by: User,
    progress: ProgressFn | None = None,
) -> Plan:
    """Validate every row of a contacts file; write nothing."""
    plan = Plan(ImportKind.CONTACTS, len(frame), columns, [])  # read_file checked columns

    data = _column_lists(frame, columns, CONTACT_HEADERS)
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
                        roles.append(_choice(part, _ROLES, "role").value)
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


@dataclass
class ReadFile:
    """A file read and checked as a whole (encoding, header, columns); rows not yet planned."""

    frame: pd.DataFrame
    kind: str
    columns: dict[str, str]
    ignored: list[str]
    bad_cells: list[RowError]

    @property
    def total_rows(self) -> int:
        return len(self.frame)


def read_file(
    content: bytes,
    *,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
) -> ReadFile:
    """Every whole-file check, fast enough for a request; raises ImportFileError."""
    frame, bad_cells = check_cells(read_csv(content, encoding=encoding))
    kind = kind or detect_kind(frame)
    if kind == ImportKind.CONTACTS:
        columns, ignored = map_columns(frame, CONTACT_HEADERS, CONTACT_REQUIRED, mapping)
        if "account_crm_id" not in columns and "account_name" not in columns:
            raise ImportFileError(
                "A contacts file needs an account column: account_crm_id (or account_id) or "
                "account_name."
            )
    elif kind == ImportKind.ACCOUNTS:
        columns, ignored = map_columns(frame, ACCOUNT_HEADERS, ACCOUNT_REQUIRED, mapping)
    else:
        raise ImportFileError(f"Unknown import kind {kind!r}; use accounts or contacts.")
    return ReadFile(frame, kind, columns, ignored, bad_cells)


def plan_file(read: ReadFile, *, by: User, progress: ProgressFn | None = None) -> Plan:
    """Validate every row of a read file against the book; write nothing."""
    planner = plan_contacts if read.kind == ImportKind.CONTACTS else plan_accounts
    plan = planner(read.frame, read.columns, by=by, progress=progress)
    plan.ignored_columns = read.ignored
    _add_cell_errors(plan, read.bad_cells)
    return plan


def build_plan(
    content: bytes,
    *,
    by: User,
    kind: str | None = None,
    mapping: dict[str, str] | None = None,
    encoding: str = "utf-8",
    progress: ProgressFn | None = None,
) -> Plan:
    read = read_file(content, kind=kind, mapping=mapping, encoding=encoding)
    return plan_file(read, by=by, progress=progress)


def _add_cell_errors(plan: Plan | OutcomePlan, found: list[RowError]) -> None:
    """Control characters anywhere in the file stop the import like any other bad cell."""
    if found:
        plan.errors = sorted([*plan.errors, *found], key=lambda e: (e.row, e.column))


# --- apply -------------------------------------------------------------------------------


def _current(obj: Any, name: str) -> Any:
    """A field's stored value; a foreign key as its id, so comparing reads no row."""
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname) if field.is_relation else getattr(obj, name)


def _plain(value: Any) -> Any:
    return value.pk if isinstance(value, models.Model) else value


@transaction.atomic
def apply_plan(plan: Plan, *, by: User, progress: ProgressFn | None = None) -> tuple[int, int]:
    """Write a valid plan in one transaction; return (created, updated).

    Creations are audited once per import by the caller; each changed row gets its own
    audit entry with the old and new values (an owner change is a reassignment).
    """
    if not plan.ok:
        raise ValueError("A plan with errors cannot be applied.")
    now = clock.now()
    done = 0
    audits: list[AuditEntry] = []
    model: type[Account] | type[Contact] = Account if plan.kind == ImportKind.ACCOUNTS else Contact
    target_type = model._meta.label_lower

    for start in range(0, len(plan.creates), BATCH):
        chunk = [model(**row) for row in plan.creates[start : start + BATCH]]
        model.objects.bulk_create(chunk, batch_size=BATCH)
        done += len(chunk)
        if progress:
            progress(done)

    # People changes (titles, departures, returns) are recorded after the contacts are
    # written, by the one service every people change goes through.
    people: list[PeopleChangeIn] = []
    for start in range(0, len(plan.updates), BATCH):
        chunk = plan.updates[start : start + BATCH]
        changed: list[Any] = []
        fields: set[str] = set()
        for obj, row in chunk:
            diff = {
                k: (_current(obj, k), v) for k, v in row.items() if _current(obj, k) != _plain(v)
            }
            if not diff:
                continue
            if isinstance(obj, Contact):
                if "title" in diff:
                    people.append(
                        PeopleChangeIn(
                            account_id=obj.account_id,
                            change=PeopleChangeKind.TITLE_CHANGED,
                            occurred_at=now,
                            contact=obj,
                            old_title=diff["title"][0],
                            new_title=diff["title"][1],
                            source="import",
                        )
                    )
                if "at_company" in diff:
                    went = diff["at_company"][1] is False
                    change = PeopleChangeKind.LEFT if went else PeopleChangeKind.JOINED
                    people.append(
                        PeopleChangeIn(
                            account_id=obj.account_id,
                            change=change,
                            occurred_at=now,
                            contact=obj,
                            source="import",
                        )
                    )
                if diff.get("at_company", (None, True))[1] is False and not obj.left_on:
                    row = {**row, "left_on": now.date()}
                    diff["left_on"] = (None, now.date())
            for k, v in row.items():
                setattr(obj, k, v)
            fields |= set(diff)
            changed.append(obj)
            account_id = obj.pk if isinstance(obj, Account) else obj.account_id
            audits.append(
                AuditEntry(
                    at=now,
                    actor=by,
                    target_type=target_type,
                    target_id=obj.pk,
                    account_id=account_id,
                    action="account.reassigned"
                    if "owner" in diff
                    else f"{model._meta.model_name}.updated",
                    changes={
                        k: [audit.jsonable(a), audit.jsonable(b)] for k, (a, b) in diff.items()
                    },
                    reason="CSV import",
                )
            )
        if changed:
            for obj in changed:
                obj.updated_at = now
            model.objects.bulk_update(changed, [*fields, "updated_at"], batch_size=BATCH)
        done += len(chunk)
        if progress:
            progress(done)
    people_changes_record(people)
    AuditEntry.objects.bulk_create(audits, batch_size=BATCH)
    return len(plan.creates), len(audits)


# --- renewal outcomes (the backtest's ground truth) ----------------------------------------

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
            errors.append(
                RowError(i, "renewal_date", day, _date_reason(day) if day else "required")
            )
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
    _add_cell_errors(plan, bad_cells)
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
