"""The renewal-risk model's records: each trained (or prior) model, and every prediction it
made, kept with history so the trend of an account's risk can be shown; and the signal
backtest's runs, so its page shows the last results at once."""

from __future__ import annotations

from django.conf import settings
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
    # A digest of the reasons' texts (``insights.risk.services.reasons_digest``): a
    # recompute compares it, not every document, with what it would write ("" = unknown).
    reasons_digest = models.CharField(max_length=32, blank=True, default="")
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


class BacktestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class BacktestRun(models.Model):
    """One run of the signal backtest over every horizon, with its results as of a date."""

    status = models.CharField(
        max_length=10, choices=BacktestStatus.choices, default=BacktestStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    as_of = models.DateField(help_text="The day the results describe (outcomes known then).")
    horizons = models.JSONField(default=list)
    # Digest of the outcomes and measure settings read: another digest today means stale.
    stamp = models.CharField(max_length=64, blank=True)
    # {"<horizon>": [Result.to_json(), ...]}
    results = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Who asked for it; empty when the sweeper or a command did.",
    )
    requested_at = models.DateTimeField()
    # When its task was last sent: the sweeper resends a lost one.
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # One run at a time: a second request joins the one under way.
            models.UniqueConstraint(
                fields=["status"],
                condition=models.Q(status__in=["queued", "running"]),
                name="one_active_backtest_run",
            )
        ]

    def __str__(self) -> str:
        return f"Backtest {self.pk} as of {self.as_of} ({self.status})"

    @property
    def active(self) -> bool:
        return self.status in (BacktestStatus.QUEUED, BacktestStatus.RUNNING)


class MeasureFinding(models.Model):
    """What one of the executive summary's measures said of an account at its last
    recompute, when the summary shows it (``insights.findings``): the measure's own value
    and sentence, and the date of the fact behind it."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=60)
    value = models.FloatField()
    sentence = models.TextField()
    on = models.DateField(help_text="The date of the change or ticket the finding speaks of.")
    computed_at = models.DateTimeField(
        help_text="The recompute that found it (a finding that stays the same is not rewritten)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "measure"], name="one_finding_per_measure")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.measure}: {self.value}"


class MeasuredAccount(models.Model):
    """An account a recompute has measured since findings were kept: its ``MeasureFinding``
    rows are the summary's findings (none: nothing to show)."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"measured {self.account_id}"
