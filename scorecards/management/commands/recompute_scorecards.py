from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Account
from scorecards.services.recomputation import recompute


class Command(BaseCommand):
    help = "Recompute scorecard colours now: every active account, or one with --account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--account", type=int, help="csrisk id of one account")

    def handle(self, *args: Any, **options: Any) -> None:
        ids = None
        if options["account"] is not None:
            if not Account.objects.filter(pk=options["account"]).exists():
                raise CommandError(f"No account with id {options['account']}.")
            ids = [options["account"]]
        started = time.perf_counter()
        report = recompute(ids)
        self.stdout.write(
            f"Recomputed {report.accounts} account(s) in {time.perf_counter() - started:.2f}s: "
            f"{report.area_changes} area colour change(s), {report.overall_changes} overall."
        )
