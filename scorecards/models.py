"""Risk areas and who owns them (the RACI table); colours and measures build on these."""

from django.db import models

from csrisk.roles import TeamFunction
from scorecards.choices import AreaCode, Color


class Area(models.Model):
    """One of the eight risk areas, with the team that reviews its flagged CTAs."""

    code = models.CharField(max_length=20, choices=AreaCode.choices, unique=True)
    name = models.CharField(max_length=60)
    description = models.CharField(max_length=300, blank=True)
    owning_function = models.CharField(
        max_length=20,
        choices=TeamFunction.choices,
        help_text="The function that owns this area and reviews its flagged CTAs (RACI).",
    )
    owning_team = models.ForeignKey(
        "csrisk.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_areas",
        help_text="Optional: a specific team; otherwise any team of the owning function.",
    )
    weight = models.PositiveSmallIntegerField(
        default=10, help_text="Weight of this area in the overall score used for ranking."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name


class MeasureConfig(models.Model):
    """A measure's thresholds: when its value turns yellow and red (configuration)."""

    code = models.CharField(max_length=60, unique=True)
    area = models.CharField(max_length=20, choices=AreaCode.choices)
    label = models.CharField(max_length=100)
    yellow_at = models.FloatField()
    red_at = models.FloatField()
    higher_is_worse = models.BooleanField(default=True)
    best = models.FloatField(default=0, help_text="The best plausible value (score 100).")
    window_days = models.PositiveIntegerField(default=90)
    params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["area", "code"]

    def __str__(self) -> str:
        return f"{self.code} (yellow {self.yellow_at}, red {self.red_at})"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.higher_is_worse and self.red_at < self.yellow_at:
            raise ValidationError("When higher is worse, red_at must be ≥ yellow_at.")
        if not self.higher_is_worse and self.red_at > self.yellow_at:
            raise ValidationError("When lower is worse, red_at must be ≤ yellow_at.")


class ScorecardSettings(models.Model):
    """Organisation-wide scorecard settings (a single row)."""

    leadership_arr_threshold = models.DecimalField(
        "ARR threshold of the Monday leadership review",
        max_digits=14,
        decimal_places=2,
        default=100_000,
    )
    override_max_days = models.PositiveIntegerField(
        default=90, help_text="The longest an override may last."
    )

    class Meta:
        verbose_name_plural = "scorecard settings"

    def __str__(self) -> str:
        return "Scorecard settings"

    @classmethod
    def get(cls) -> "ScorecardSettings":
        return cls.objects.get_or_create(pk=1)[0]


class AreaScore(models.Model):
    """An account's current colour in one area, with the reasons behind it."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="area_scores"
    )
    area = models.CharField(max_length=20, choices=AreaCode.choices)
    color = models.CharField(max_length=6, choices=Color.choices)
    score = models.PositiveSmallIntegerField()
    computed_color = models.CharField(max_length=6, choices=Color.choices)
    computed_score = models.PositiveSmallIntegerField()
    # What the measures, CTAs and an override each said; the first reason decided the colour.
    reasons = models.JSONField(default=list)
    # No measure had data to judge and no CTA or person set the colour
    # (``colour_rule.area_colour``): ``color`` stays green, pages show "No data".
    no_data = models.BooleanField(default=False)
    # A digest of (color, score, computed_color, computed_score, reasons): a recompute
    # compares it instead of parsing every stored reasons document. Empty = unknown.
    digest = models.CharField(max_length=32, blank=True, default="")
    changed_at = models.DateTimeField(help_text="When the colour last changed.")
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["account", "area"]
        constraints = [
            models.UniqueConstraint(fields=["account", "area"], name="one_score_per_area")
        ]
        # account last: the executive summary's read of non-green areas is an index-only scan.
        indexes = [models.Index(fields=["area", "color", "account"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.area}: {self.color} ({self.score})"


class Scorecard(models.Model):
    """An account's overall colour: the worst area, named; a weighted score for ranking."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="scorecard"
    )
    color = models.CharField(max_length=6, choices=Color.choices)
    score = models.PositiveSmallIntegerField(help_text="Worst area's score.")
    weighted_score = models.PositiveSmallIntegerField(help_text="Weighted mean of the areas.")
    reason = models.CharField(max_length=500)
    worst_area = models.CharField(max_length=20, choices=AreaCode.choices, blank=True)
    no_data = models.BooleanField(default=False, help_text="No area of the account has data.")
    # A digest of the account's AreaScore digests as last written: a recompute compares it
    # before reading any of them (``compute.OverallResult.areas_digest``). Empty = unknown.
    areas_digest = models.CharField(max_length=16, blank=True, default="")
    changed_at = models.DateTimeField()
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["color", "weighted_score"])]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.color}"


class ColorChange(models.Model):
    """One change of an account's colour in an area (or overall): the history."""

    OVERALL = "overall"

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="color_changes"
    )
    area = models.CharField(max_length=20, help_text="An area code, or 'overall'.")
    from_color = models.CharField(max_length=6, choices=Color.choices, blank=True)
    to_color = models.CharField(max_length=6, choices=Color.choices)
    score = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    cause = models.CharField(max_length=20, help_text="measures, cta, override or expiry")
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["account", "area", "-at"]),
            models.Index(fields=["at"]),
            # The executive summary's read of the recent history: the changes that move a
            # figure (not a first green score), in order, from the index alone.
            models.Index(
                fields=["at", "id", "account", "area", "from_color", "to_color"],
                condition=~models.Q(from_color="", to_color="green"),
                name="color_change_moves",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.area}: {self.from_color or '∅'} → {self.to_color}"


class Override(models.Model):
    """A person's colour for an area, with a reason and an expiry; recomputes keep it."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="overrides"
    )
    area = models.CharField(max_length=20, choices=AreaCode.choices)
    color = models.CharField(max_length=6, choices=Color.choices)
    reason = models.TextField()
    set_by = models.ForeignKey(
        "csrisk.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        "csrisk.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    end_reason = models.CharField(max_length=20, blank=True, help_text="cleared or expired")

    class Meta:
        ordering = ["-set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "area"],
                condition=models.Q(ended_at__isnull=True),
                name="one_live_override_per_area",
            )
        ]
        indexes = [models.Index(fields=["ended_at", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.area} → {self.color} until {self.expires_at:%Y-%m-%d}"


class CtaPressure(models.Model):
    """Open risk CTAs holding an area at least yellow (open) or red (flagged).

    Written only by ``services.cta_pressure_set``, the interface the ctas app calls.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="cta_pressures"
    )
    area = models.CharField(max_length=20, choices=AreaCode.choices)
    color = models.CharField(max_length=6, choices=Color.choices)
    reasons = models.JSONField(default=list, help_text='[{"id": cta id, "sentence": "…"}]')
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "area"], name="one_pressure_per_area")
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.area} ≥ {self.color}"


class PendingRecompute(models.Model):
    """An account whose scorecard must be recomputed; a burst of changes collapses here."""

    account = models.OneToOneField(
        "accounts.Account", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    requested_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"recompute {self.account_id}"


class RecomputeRun(models.Model):
    """A full recompute split into chunks that any number of workers share."""

    created_at = models.DateTimeField()
    cause = models.CharField(max_length=20, default="measures")
    chunk_size = models.PositiveIntegerField()
    accounts = models.PositiveIntegerField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"recompute run {self.pk} ({self.accounts} accounts)"


class RecomputeChunk(models.Model):
    """One bounded slice of a run: the live accounts with ids in [first, last]."""

    run = models.ForeignKey(RecomputeRun, on_delete=models.CASCADE, related_name="chunks")
    first_account_id = models.BigIntegerField()
    last_account_id = models.BigIntegerField()
    # A worker holds a chunk until then; a chunk whose holder died is taken again after it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    accounts = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["run", "done_at"])]

    def __str__(self) -> str:
        return f"chunk {self.first_account_id}-{self.last_account_id} of run {self.run_id}"
