"""Generated books for the renewal-risk tests: one planted signal drives churn."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from accounts.models import Account, CompetitorEvent, RenewalOutcome
from tests.factories import AccountFactory

# Six monthly renewal dates; each is read at T-90 on the Monday before (backtest.as_of_date).
RENEWALS = [dt.date(2025, m, 1) for m in range(7, 13)]


def planted_book(
    owner, *, per_date: int = 30, lead_days: int = 100, seed: int = 3
) -> list[Account]:
    """Accounts renewing on ``RENEWALS``; half of them had a competitor evaluation
    ``lead_days`` before their renewal. Those churn 70% of the time, the others 8%.

    lead_days=100: the evaluation was on record at T-90 (the signal is readable then).
    lead_days=30: it came after T-90 — at T-90 nobody could have seen it.
    """
    rng = random.Random(seed)
    accounts = []
    for renewal in RENEWALS:
        for _ in range(per_date):
            account = AccountFactory(owner=owner, arr=Decimal(rng.choice([20_000, 50_000, 80_000])))
            exposed = rng.random() < 0.5
            if exposed:
                CompetitorEvent.objects.create(
                    account=account,
                    competitor="Rival",
                    activity="evaluation",
                    occurred_at=dt.datetime.combine(
                        renewal - dt.timedelta(days=lead_days), dt.time(9), tzinfo=dt.UTC
                    ),
                )
            churned = rng.random() < (0.7 if exposed else 0.08)
            RenewalOutcome.objects.create(
                account=account,
                renewal_date=renewal,
                outcome="churned" if churned else "renewed",
            )
            accounts.append(account)
    return accounts
