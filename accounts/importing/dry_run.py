"""The dry run: read a file, then plan its rows with the planner for its kind."""

from __future__ import annotations

from accounts.choices import ImportKind
from accounts.importing.account_rows import plan_accounts
from accounts.importing.contact_rows import plan_contacts
from accounts.importing.plan import Plan, ProgressFn, add_cell_errors
from accounts.importing.reading import ReadFile, read_file
from csrisk.models import User


def plan_file(read: ReadFile, *, by: User, progress: ProgressFn | None = None) -> Plan:
    """Validate every row of a read file against the book; write nothing."""
    planner = plan_contacts if read.kind == ImportKind.CONTACTS else plan_accounts
    plan = planner(read.frame, read.columns, by=by, progress=progress)
    plan.ignored_columns = read.ignored
    add_cell_errors(plan, read.bad_cells)
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
