from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from csrisk import inprocess


class Command(BaseCommand):
    help = (
        "Serve csrisk for a single machine: the development server plus, without REDIS_URL, "
        "the periodic jobs (override expiry, pending recomputes, nightly recompute) "
        "in-process. What `make demo` runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.REDIS_URL:
            inprocess.start()
            self.stdout.write("Periodic jobs run in-process (no REDIS_URL).")
        # --noreload: the autoreloader would fork a second process with a second scheduler.
        call_command("runserver", options["addrport"], use_reloader=False)
