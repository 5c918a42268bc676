from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.choices import ImportKind
from accounts.importing.committing import apply_plan
from accounts.importing.dry_run import build_plan
from accounts.importing.reading import ImportFileError
from csrisk import audit
from csrisk.management.actors import import_actor


class Command(BaseCommand):
    help = (
        "Import accounts (or contacts) from a CSV file. Every bad row is reported with its "
        "row, column, value and reason; the import is all or nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the CSV file")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and report; write nothing"
        )
        parser.add_argument("--kind", choices=ImportKind.values, help="default: from the headers")
        parser.add_argument("--encoding", default="utf-8", help="file encoding (default utf-8)")
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help='map a field to a column header, e.g. --map "arr=Contract Value" (repeatable)',
        )
        parser.add_argument(
            "--as-user",
            help="import with this person's permissions (default: the first superuser or VP)",
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        mapping: dict[str, str] = {}
        for item in options["map"]:
            field, sep, header = item.partition("=")
            if not sep or not field.strip() or not header.strip():
                raise CommandError(f"--map expects FIELD=HEADER, got {item!r}")
            mapping[field.strip()] = header.strip()
        by = import_actor(options["as_user"])
        started = time.perf_counter()
        try:
            plan = build_plan(
                path.read_bytes(),
                by=by,
                kind=options["kind"],
                mapping=mapping,
                encoding=options["encoding"],
            )
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc} Nothing was imported.") from None
        report: dict[str, Any] = {
            "file": str(path),
            "kind": plan.kind,
            "rows": plan.total_rows,
            "to_create": len(plan.creates),
            "to_update": len(plan.updates),
            "columns": plan.columns,
            "ignored_columns": plan.ignored_columns,
            "errors": [e.as_dict() for e in plan.errors],
            "written": False,
        }
        if plan.errors:
            self._report(report, options["json"])
            raise CommandError(
                f"{len(plan.errors)} problem(s) in {path.name}; nothing was imported."
            )
        if not options["dry_run"]:
            created, updated = apply_plan(plan, by=by)
            audit.record(
                actor=by,
                action=f"{plan.kind}.imported",
                target=by,
                changes={"created": (0, created), "updated": (0, updated)},
                reason=f"{path.name} (command line)",
            )
            report.update(created=created, updated=updated, written=True)
        report["seconds"] = round(time.perf_counter() - started, 3)
        self._report(report, options["json"])

    def _report(self, report: dict[str, Any], as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report, indent=2, default=str))
            return
        self.stdout.write(
            f"{report['file']}: {report['rows']} {report['kind']} rows — "
            f"{report['to_create']} to create, {report['to_update']} to update"
        )
        for field, header in report["columns"].items():
            self.stdout.write(f"  {field:<16} ← {header}")
        if report["ignored_columns"]:
            self.stdout.write(f"  ignored columns: {', '.join(report['ignored_columns'])}")
        for e in report["errors"]:
            self.stdout.write(f"  row {e['row']}, {e['column']}: {e['value']!r} — {e['reason']}")
        if report["written"]:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Imported: {report['created']} created, {report['updated']} updated "
                    f"in {report['seconds']}s."
                )
            )
        elif not report["errors"]:
            self.stdout.write("Dry run: nothing was written.")
