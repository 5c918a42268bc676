"""manage.py backtest [--horizon-days 90] [--json]: how well each signal predicted churn.

Runs at once, in this process (no job, no cache): a script gets today's figures."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from insights import backtest


class Command(BaseCommand):
    help = "How well each signal and the composite health predicted past renewals."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--horizon-days", type=int, default=90)
        parser.add_argument("--json", action="store_true", help="the CONTRACT list shape")

    def handle(self, *args: Any, **options: Any) -> None:
        horizon = options["horizon_days"]
        if horizon < 1:
            raise CommandError("--horizon-days must be a positive number of days.")
        results = backtest.backtest(horizon)
        if options["json"]:
            self.stdout.write(json.dumps([r.as_contract() for r in results], indent=2))
            return
        self.stdout.write(
            f"{'signal':<32} {'n':>5} {'churn':>5} {'flag':>5} {'TP':>4} "
            f"{'precision':>9} {'recall':>7} {'lift':>5} {'AUC':>5} {'PR-AUC':>6} {'Brier':>5}"
            "  AUC 95% CI"
        )
        for r in results:
            self.stdout.write(
                f"{r.signal:<32} {r.n:>5} {r.positives:>5} {r.flagged:>5} {r.true_positives:>4} "
                f"{_pct(r.precision):>9} {_pct(r.recall):>7} {_num(r.lift, 1):>5} "
                f"{_num(r.auc, 2):>5} {_num(r.pr_auc, 2):>6} {_num(r.brier, 3):>5}  {_ci(r.auc_ci)}"
            )
        self.stdout.write("")
        for sentence in backtest.reading(results):
            self.stdout.write(sentence)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _num(x: float | None, digits: int) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci(ci: tuple[float, float] | None) -> str:
    return "—" if ci is None else f"{ci[0]:.2f}–{ci[1]:.2f}"
