"""CSV import of accounts and contacts: read, map headers, validate every row, then apply.

Reading and validation write nothing. ``apply_plan`` writes everything in one transaction
or nothing at all. Re-importing the same file updates rows by external id (CRM id, then
help-desk id, then exact name) instead of creating duplicates. One module per step:

- ``reading`` — the file as a whole: encoding, header, column mapping, kind (``read_file``);
- ``cells`` — one cell's parsers (money, dates, choices);
- ``plan`` — what an import would do (``Plan``);
- ``account_rows`` / ``contact_rows`` — every row checked against the book;
- ``dry_run`` — read, then plan (``plan_file``, ``build_plan``);
- ``committing`` — write a valid plan (``apply_plan``);
- ``outcomes`` — renewal outcomes, the backtest's ground truth.

The names below are re-exported so ``from accounts.importing import build_plan`` keeps
working; inside the package, import from the step's module.
"""

from accounts.importing.account_rows import plan_accounts
from accounts.importing.cells import parse_dates, parse_money
from accounts.importing.committing import BATCH, apply_plan
from accounts.importing.contact_rows import plan_contacts
from accounts.importing.dry_run import build_plan, plan_file
from accounts.importing.outcomes import OUTCOME_FIELDS, OutcomePlan, apply_outcomes, plan_outcomes
from accounts.importing.plan import PROGRESS_EVERY, Plan, ProgressFn
from accounts.importing.reading import (
    ACCOUNT_HEADERS,
    ACCOUNT_REQUIRED,
    CONTACT_HEADERS,
    CONTACT_REQUIRED,
    ImportFileError,
    ReadFile,
    detect_kind,
    map_columns,
    read_file,
)

# The reading is shared by every CSV import (csrisk.csvfiles); the upload views and the
# signals import take these from here.
from csrisk.csvfiles import RowError, check_size, read_csv

__all__ = [
    "ACCOUNT_HEADERS",
    "ACCOUNT_REQUIRED",
    "BATCH",
    "CONTACT_HEADERS",
    "CONTACT_REQUIRED",
    "OUTCOME_FIELDS",
    "PROGRESS_EVERY",
    "ImportFileError",
    "OutcomePlan",
    "Plan",
    "ProgressFn",
    "ReadFile",
    "RowError",
    "apply_outcomes",
    "apply_plan",
    "build_plan",
    "check_size",
    "detect_kind",
    "map_columns",
    "parse_dates",
    "parse_money",
    "plan_accounts",
    "plan_contacts",
    "plan_file",
    "plan_outcomes",
    "read_csv",
    "read_file",
]
