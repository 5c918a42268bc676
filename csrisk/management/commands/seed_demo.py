from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from accounts.demo import DEMO_LOGINS, DEMO_PASSWORD, build_demo_book, demo_book_exists
from csrisk import clock
from csrisk.models import Notification
from csrisk.notifications import quiet
from ctas.demo import build_demo_ctas
from escalation.demo import build_demo_escalations
from scorecards.services import recompute
from sponsors.demo import build_demo_sponsors

# Weekly over the last 13 weeks (91 days): the summary's trend and its "vs 90 days ago".
HISTORY_DAYS = tuple(range(91, 0, -7))
HISTORY_MAX_ACCOUNTS = 2000  # larger books skip the backfill to keep seeding under a minute


class Command(BaseCommand):
    help = (
        "Load the deterministic demo book (replaces an existing demo book): accounts, "
        "contacts, people, activity history, and their scorecards."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--accounts", type=int, default=300, help="number of accounts")
        parser.add_argument("--months", type=int, default=32, help="months of history")
        parser.add_argument("--seed", type=int, default=7, help="random seed")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when a demo book is already loaded (what `make demo` uses)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["accounts"] < 1 or options["months"] < 1:
            self.stderr.write("--accounts and --months must be at least 1.")
            raise SystemExit(2)
        if options["if_empty"] and demo_book_exists():
            self.stdout.write("Demo book already loaded; leaving it as it is.")
            return
        started = time.perf_counter()
        with quiet():  # the demo's history tells people in-app only, never by e-mail
            self._seed(options, started)

    def _seed(self, options: dict[str, Any], started: float) -> None:
        summary = build_demo_book(
            accounts=options["accounts"], months=options["months"], seed=options["seed"]
        )
        book_seconds = time.perf_counter() - started
        # Colour history: the book as it stood each week of the last 13, from the same facts
        # (measures only see what existed then), so trends and timelines have a past.
        now = clock.now()
        if options["accounts"] <= HISTORY_MAX_ACCOUNTS:
            for days in HISTORY_DAYS:
                with clock.frozen(now - dt.timedelta(days=days)):
                    recompute()
        scorecards = recompute()
        ctas = build_demo_ctas(seed=options["seed"])
        escalations = build_demo_escalations(full=options["accounts"] <= HISTORY_MAX_ACCOUNTS)
        sponsors = build_demo_sponsors(
            seed=options["seed"], full=options["accounts"] <= HISTORY_MAX_ACCOUNTS
        )
        # The renewal-risk model learns from the book's past renewals: the demo opens on a
        # trained model, not on the prior (by name: csrisk imports no insights).
        call_command("train_risk", stdout=self.stdout)
        settle_notifications()
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo book: {summary.accounts} accounts, {summary.contacts} contacts, "
                f"{summary.renewals} past renewals, {summary.users} people in {summary.teams} "
                f"teams ({book_seconds:.1f}s)."
            )
        )
        facts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in summary.activity.items())
        self.stdout.write(f"Activity: {facts}.")
        self.stdout.write(
            f"Scorecards computed for {scorecards.accounts} active accounts; {ctas} open CTAs, "
            f"{escalations} escalated; {sponsors['sponsored']} accounts sponsored, "
            f"{sponsors['checkins']} check-ins due ({seconds:.1f}s in all)."
        )
        logins = ", ".join(f"{u} ({what})" for u, what in DEMO_LOGINS)
        self.stdout.write(f"Logins (password {DEMO_PASSWORD!r}): {logins}")


# How many of a person's newest notifications the demo leaves unread: a morning's news.
UNREAD_KEPT = 8


def settle_notifications() -> int:
    """Mark the demo history's notifications read but each person's newest ``UNREAD_KEPT``:
    months of history left everyone with dozens unread (lead1 had 60), which no one has."""
    keep: set[int] = set()
    for user_id in (
        Notification.objects.filter(read_at__isnull=True).values_list("user", flat=True).distinct()
    ):
        keep |= set(
            Notification.objects.filter(user_id=user_id, read_at__isnull=True)
            .order_by("-created_at", "-pk")
            .values_list("pk", flat=True)[:UNREAD_KEPT]
        )
    return (
        Notification.objects.filter(read_at__isnull=True)
        .exclude(pk__in=keep)
        .update(read_at=clock.now())
    )
