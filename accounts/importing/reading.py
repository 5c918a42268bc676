"""Reading a file as a whole: encoding, header, which column holds which field, and
whether it lists accounts or contacts. Fast enough for a request; writes nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from accounts.choices import ImportKind
from csrisk.csvfiles import CsvFileError, RowError, check_cells, normalise_header, read_csv

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


# The reading is shared by every CSV import (csrisk.csvfiles); the old names stay here.
ImportFileError = CsvFileError


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
