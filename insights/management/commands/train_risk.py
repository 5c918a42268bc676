"""``manage.py train_risk``: fit the renewal-risk model on the book's past renewals now."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from insights.risk.services import risk_model_train


class Command(BaseCommand):
    help = (
        "Fit the renewal-risk model on the book's past renewals (the documented prior when "
        "too few churned), make it active and score every live account."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        m = risk_model_train()
        seconds = time.monotonic() - started
        cv = (m.metrics.get("cross_validated") or {}).get("auc")
        self.stdout.write(
            f"{m.version}: {m.get_kind_display()}; {m.n_renewals} renewals, "
            f"{m.n_churned} churned, read {m.horizon_days} days before"
            + (f"; cross-validated AUC {cv:.2f}" if cv is not None else "")
            + f"; {m.predictions.filter(latest=True).count()} live accounts scored "
            f"in {seconds:.1f} s."
        )
