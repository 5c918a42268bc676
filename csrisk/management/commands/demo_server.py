from __future__ import annotations

import os
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
        base = demo_base_url(options["addrport"])
        if base:
            # Links in e-mail and chat point at the address this serves on (PORT=8010 too),
            # unless CSRISK_BASE_URL says otherwise.
            settings.CSRISK_BASE_URL = base
        if not settings.REDIS_URL:
            inprocess.start()
            self.stdout.write("Periodic jobs run in-process (no REDIS_URL).")
        # --noreload: the autoreloader would fork a second process with a second scheduler.
        call_command("runserver", options["addrport"], use_reloader=False)


def demo_base_url(addrport: str) -> str:
    """The base URL of links for a server on ``addrport`` ("8010", "0.0.0.0:8010",
    "127.0.0.1:8000"), or "" when ``CSRISK_BASE_URL`` is set and wins."""
    if os.environ.get("CSRISK_BASE_URL"):
        return ""
    host, _, port = addrport.rpartition(":")
    host = host or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"  # listening everywhere: a link must name one address
    return f"http://{host}:{port}"
