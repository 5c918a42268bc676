"""``manage.py import_signals FILE``: a file of history, stored and processed as a backfill."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.importing import ImportFileError, RowError
from csrisk import clock
from csrisk.management.actors import import_actor
from signals import selectors
from signals.importing import HISTORY_CHUNK, check_signals, import_history, read_signals


class Command(BaseCommand):
    help = (
        "Import a file of past signals as a backfill: facts, colours and history are updated, "
        "but nobody is alerted about changes dated before the import started, and rule CTAs "
        "open only for what is still true now. The file is JSON lines (one signal a line, "
        "as POST /api/v1/signals/ takes them; a JSON list is read too) or a CSV with the "
        "columns source, external_id, kind, account (or account_id), occurred_at, attributes "
        "(a JSON object). Every bad row is reported; a file with any is not imported."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="path to the .jsonl, .json or .csv file")
        parser.add_argument("--source", default="", help="source of rows that name none")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report; write nothing"
        )
        parser.add_argument(
            "--as-user",
            help="who does the import, as recorded (default: the first superuser or VP)",
        )
        parser.add_argument(
            "--chunk", type=int, default=HISTORY_CHUNK, help="signals per transaction"
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["chunk"] < 1:
            raise CommandError("--chunk must be at least 1.")
        by = import_actor(options["as_user"])
        started = time.perf_counter()
        try:
            rows, errors = read_signals(path.read_bytes(), name=path.name)
        except ImportFileError as exc:
            raise CommandError(f"{path.name}: {exc} Nothing was imported.") from None
        errors += check_signals(rows, default_source=options["source"], now=clock.now())
        if errors:
            self._errors(sorted(errors, key=lambda e: e.row))
            raise CommandError(f"{len(errors)} problem(s) in {path.name}; nothing was imported.")
        self.stdout.write(f"{path.name}: {len(rows)} signals, no problems found.")
        if options["dry_run"]:
            self.stdout.write("Dry run: nothing was written.")
            return

        def progress(p: dict[str, Any]) -> None:
            share = 100 * p["done"] // max(p["total"], 1)
            self.stdout.write(
                f"  {p['done']}/{p['total']} stored ({share}%), {p['processed']} processed"
            )
            self.stdout.flush()

        backfill, refused = import_history(
            rows,
            by=by,
            name=path.name,
            default_source=options["source"],
            chunk=options["chunk"],
            progress=progress,
        )
        summary = selectors.backfill_progress(backfill)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2, default=str))
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Backfill #{backfill.pk} by {by.username}: {summary['accepted']} new or "
                    f"updated, {summary['duplicates']} already known, {summary['processed']} "
                    f"processed in {summary['seconds']}s; no alerts for changes before "
                    f"{backfill.started_at:%Y-%m-%d %H:%M} UTC."
                )
            )
        if refused:
            self._errors(refused)
            raise CommandError(
                f"The database refused {len(refused)} row(s); the others are stored "
                f"(backfill #{backfill.pk})."
            )

    def _errors(self, errors: list[RowError]) -> None:
        for e in errors:
            where = f"line {e.row}" + (f", {e.column}" if e.column else "")
            value = f" {e.value!r}" if e.value else ""
            self.stderr.write(f"  {where}:{value} {e.reason}")
