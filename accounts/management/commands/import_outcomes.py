"""manage.py import_outcomes FILE [--dry-run]: past renewals, the backtest's ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.importing.outcomes import apply_outcomes, plan_outcomes
from accounts.importing.reading import ImportFileError


class Command(BaseCommand):
    help = (
        "Import renewal outcomes from a CSV: crm_id,renewal_date,outcome "
        "(renewed, churned, downsold), optional arr_before,arr_after. Every bad row is "
        "reported; the import is all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        try:
            plan = plan_outcomes(path.read_bytes())
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc} Nothing was imported.") from None
        self.stdout.write(f"{path}: {plan.total_rows} rows, {len(plan.rows)} valid")
        for e in plan.errors:
            self.stdout.write(f"  row {e.row}, {e.column}: {e.value!r} — {e.reason}")
        if plan.errors:
            raise CommandError(
                f"{len(plan.errors)} problem(s) in {path.name}; nothing was imported."
            )
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
            return
        created, updated = apply_outcomes(plan)
        self.stdout.write(self.style.SUCCESS(f"Imported: {created} created, {updated} updated."))
