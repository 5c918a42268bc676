"""The ``risk`` field of an account's JSON (registered in InsightsConfig.ready through
``csrisk.api.extensions``, so ``accounts`` never imports insights)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from insights.models import RiskBand
from insights.risk.selectors import latest_prediction, prefetch_risk

__all__ = ["RenewalRiskSerializer", "RiskField", "prefetch_risk"]


class RenewalRiskSerializer(serializers.Serializer):
    probability = serializers.FloatField(
        min_value=0, max_value=1, help_text="Probability that the next renewal churns."
    )
    expected_loss = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="probability × ARR."
    )
    band = serializers.ChoiceField(choices=RiskBand.choices)
    model_version = serializers.CharField(
        help_text="The model that scored it; a version starting 'prior-' is the documented "
        "prior (too few past churns to learn from)."
    )
    reasons = serializers.ListField(
        child=serializers.CharField(), help_text="The signals that push it up, in words."
    )


@extend_schema_field(RenewalRiskSerializer(allow_null=True))
class RiskField(serializers.Field):
    """An account's renewal risk; null for a churned account or before any prediction."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, account: Any) -> dict[str, Any] | None:
        p = latest_prediction(account)
        if p is None:
            return None
        return {
            "probability": round(p.probability, 4),
            "expected_loss": f"{p.expected_loss:.2f}",
            "band": p.band,
            "model_version": p.model.version,
            "reasons": [r["text"] for r in p.reasons],
        }
