"""The renewal-risk model's records: each trained (or prior) model, and every prediction it
made, kept with history so the trend of an account's risk can be shown."""

from __future__ import annotations

from django.db import models


class RiskModelKind(models.TextChoices):
    LEARNED = "learned", "Learned from the book's renewals"
    PRIOR = "prior", "Documented prior (expert weights)"


class RiskBand(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class RiskModel(models.Model):
    """One fitted renewal-risk model (or the prior), with what it was trained on."""

    version = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=RiskModelKind.choices)
    trained_at = models.DateTimeField()
    # The renewals it learned from: their dates, counts and the horizon they were read at.
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    horizon_days = models.PositiveSmallIntegerField(default=90)
    n_renewals = models.PositiveIntegerField(default=0)
    n_churned = models.PositiveIntegerField(default=0)
    features = models.JSONField(default=list, help_text="Feature names, in order.")
    # Whatever the model needs to predict again (coefficients, intercept, calibration).
    parameters = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=False, help_text="The model new predictions use.")

    class Meta:
        ordering = ["-trained_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=models.Q(active=True), name="one_active_risk_model"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version} ({self.kind})"


class RiskPrediction(models.Model):
    """The probability that an account's next renewal churns, as one model saw it at one
    time. ``latest`` marks each account's current prediction; older rows are its history."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="risk_predictions"
    )
    model = models.ForeignKey(RiskModel, on_delete=models.PROTECT, related_name="predictions")
    computed_at = models.DateTimeField()
    probability = models.FloatField()
    expected_loss = models.DecimalField(max_digits=14, decimal_places=2)
    band = models.CharField(max_length=10, choices=RiskBand.choices)
    horizon_days = models.PositiveIntegerField(help_text="Days to the renewal it is about.")
    renewal_date = models.DateField(null=True, blank=True)
    # [{"feature": code, "label": "...", "value": ..., "contribution": ...}, ...] then words
    reasons = models.JSONField(default=list)
    latest = models.BooleanField(default=True)

    class Meta:
        ordering = ["-computed_at", "-pk"]
        indexes = [models.Index(fields=["account", "-computed_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=models.Q(latest=True), name="one_latest_risk"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.probability:.0%} ({self.band})"
