"""The executive-sponsor program: time-boxed program periods, sponsors and their profiles,
sponsorships, recurring check-ins and help requests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from accounts.choices import Tier
from csrisk import clock


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class Program(models.Model):
    """One program period (e.g. "H1 2027"): thresholds, cadences and capacity belong to it."""

    name = models.CharField(max_length=60, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    enterprise_min_arr = models.DecimalField(
        "enterprise tier: ARR from", max_digits=14, decimal_places=2, default=Decimal(100_000)
    )
    strategic_min_arr = models.DecimalField(
        "strategic tier: ARR from", max_digits=14, decimal_places=2, default=Decimal(250_000)
    )
    enterprise_cadence_months = models.PositiveSmallIntegerField(
        "enterprise tier: a check-in every N months", default=3
    )
    strategic_cadence_months = models.PositiveSmallIntegerField(
        "strategic tier: a check-in every N months", default=1
    )
    capacity_calls_per_week = models.DecimalField(
        "a sponsor's capacity (customer calls a week)",
        max_digits=4,
        decimal_places=2,
        default=Decimal(1),
    )
    help_request_calls = models.DecimalField(
        "an open help request counts as (calls a week)",
        max_digits=4,
        decimal_places=2,
        default=Decimal("0.5"),
    )

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=F("starts_on")), name="program_ends_after_it_starts"
            ),
            models.CheckConstraint(
                condition=Q(enterprise_cadence_months__gte=1, strategic_cadence_months__gte=1),
                name="program_cadence_at_least_monthly",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_on:%b %d, %Y} – {self.ends_on:%b %d, %Y})"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": "A program ends after it starts."})

    def min_arr(self, tier: str) -> Decimal | None:
        return {
            Tier.ENTERPRISE: self.enterprise_min_arr,
            Tier.STRATEGIC: self.strategic_min_arr,
        }.get(tier)

    def cadence_months(self, tier: str) -> int | None:
        return {
            Tier.ENTERPRISE: self.enterprise_cadence_months,
            Tier.STRATEGIC: self.strategic_cadence_months,
        }.get(tier)

    def calls_per_week(self, tier: str) -> Decimal:
        """What one sponsored account of this tier costs its sponsor, in calls a week."""
        months = self.cadence_months(tier)
        return Decimal(12) / Decimal(months) / Decimal(52) if months else Decimal(0)

    @classmethod
    def current(cls, on: dt.date | None = None) -> Program | None:
        """The running period (the latest to start, when a prepared one has taken over)."""
        on = on or clock.today()
        return cls.objects.filter(starts_on__lte=on, ends_on__gte=on).order_by("-starts_on").first()


class SponsorProfile(models.Model):
    """An executive's part in the program: active or not, what they know, their capacity."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sponsor_profile"
    )
    active = models.BooleanField(default=True)
    segments = models.JSONField(default=list, blank=True, help_text="Segments they know well.")
    industries = models.JSONField(default=list, blank=True, help_text="Industries they know.")
    capacity_calls_per_week = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Their own capacity; empty: the program's.",
    )

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"Sponsor profile of {self.user}"


class Sponsorship(models.Model):
    """An executive sponsoring an account, from a date until it ends."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="sponsorships"
    )
    sponsor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sponsorships"
    )
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)
    over_capacity = models.BooleanField(
        default=False, help_text="Assigned over the sponsor's capacity (a VP's call)."
    )

    class Meta:
        ordering = ["account", "-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(ended_on=None), name="one_sponsor_per_account"
            )
        ]

    def __str__(self) -> str:
        return f"{self.sponsor} sponsors {self.account}"


class CheckIn(models.Model):
    """One check-in slot of a sponsored account in a program period, and what it found."""

    cta = models.OneToOneField("ctas.Cta", on_delete=models.CASCADE, related_name="checkin")
    sponsorship = models.ForeignKey(Sponsorship, on_delete=models.CASCADE, related_name="checkins")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="checkins")
    slot = models.PositiveSmallIntegerField(help_text="0 for the program's first cadence slot.")
    slot_start = models.DateField()
    due_date = models.DateField()
    logged_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.TextField(blank=True)
    sentiment = models.CharField(max_length=10, choices=Sentiment.choices, blank=True)
    # [{"area": "product", "description": "…", "cta": <id or null>}]
    risks = models.JSONField(default=list, blank=True)
    lead_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-due_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "program", "slot"], name="one_checkin_per_slot"
            )
        ]

    def __str__(self) -> str:
        return f"Check-in {self.account} {self.slot_start:%b %Y}"

    @property
    def is_logged(self) -> bool:
        return self.logged_at is not None


class HelpRequest(models.Model):
    """Someone asks an account's sponsor for help; a CTA for the sponsor, counted in load."""

    cta = models.OneToOneField("ctas.Cta", on_delete=models.CASCADE, related_name="help_request")
    sponsorship = models.ForeignKey(
        Sponsorship, on_delete=models.CASCADE, related_name="help_requests"
    )
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    context = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Help request on {self.sponsorship.account}"
