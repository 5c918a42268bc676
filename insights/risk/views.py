"""The renewal-risk panel on the account page (registered in InsightsConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from insights.risk import selectors


def panel_context(request: HttpRequest, account: Any) -> dict[str, Any]:
    live = selectors.is_live(account)
    recent = selectors.recent_predictions(account) if live else []
    prediction = recent[0] if recent and recent[0].latest else None
    return {
        "account": account,
        "live": live,
        "prediction": prediction,
        "percent": round(prediction.probability * 100) if prediction else None,
        "prior_notice": selectors.prior_notice(prediction) if prediction else "",
        "trend": selectors.trend(recent) if prediction else [],
        "bands": (
            round(settings.CSRISK_RISK_BAND_MEDIUM * 100),
            round(settings.CSRISK_RISK_BAND_HIGH * 100),
        ),
    }
