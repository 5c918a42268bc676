"""The escalation chain: who sits at each level, escalations with their timeline and
suggestions, and the meetings and live queues that review flagged CTAs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csrisk.roles import Role
from escalation.choices import (
    EscalationStatus,
    Level,
    MeetingKind,
    StepAction,
    SuggestionRule,
    SuggestionStatus,
    Weekday,
)


class EscalationLevel(models.Model):
    """Who sits at a level, how fast they must acknowledge, and who may escalate to it."""

    level = models.PositiveSmallIntegerField(choices=Level.choices, unique=True)
    role = models.CharField(
        max_length=20,
        choices=Role.choices,
        help_text="Who sits at this level by role; level 1 means the CTA owner's team lead.",
    )
    people = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="escalation_levels",
        help_text="Named people instead of everyone with the role (optional).",
    )
    ack_business_days = models.DecimalField(
        "acknowledge within (business days)", max_digits=4, decimal_places=1, default=1
    )
    escalate_after_business_days = models.DecimalField(
        "move up after (business days past the deadline)",
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Empty: never move up automatically; the level is reminded only.",
    )
    raised_by_roles = models.JSONField(
        default=list,
        blank=True,
        help_text="Roles that may escalate a CTA to this level (superusers always may).",
    )

    class Meta:
        ordering = ["level"]

    def __str__(self) -> str:
        return self.get_level_display()


class EscalationSettings(models.Model):
    """Organisation-wide escalation settings (a single row)."""

    renewal_window_days = models.PositiveIntegerField(
        default=90,
        help_text="A renewal this close, on an account not green, suggests level 2.",
    )
    people_change_days = models.PositiveIntegerField(
        default=90,
        help_text="An executive decision maker who left or changed title this recently "
        "suggests level 2.",
    )

    class Meta:
        verbose_name_plural = "escalation settings"

    def __str__(self) -> str:
        return "Escalation settings"

    @classmethod
    def get(cls) -> EscalationSettings:
        return cls.objects.get_or_create(pk=1)[0]


class Meeting(models.Model):
    """A recurring review (or a department's live queue) and the items it looks at."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=10, choices=MeetingKind.choices, default=MeetingKind.MEETING)
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, null=True, blank=True)
    description = models.CharField(max_length=300, blank=True)
    team = models.ForeignKey(
        "csrisk.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
        help_text="The team that runs it (its people are told about items in a live queue).",
    )
    attendees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    areas = models.JSONField(
        default=list, blank=True, help_text="Flagged live CTAs in these areas are reviewed."
    )
    renewal_window_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Also: flagged CTAs of any area, and red accounts, renewing within this "
        "many days.",
    )
    red_scorecards = models.BooleanField(
        default=False,
        help_text="Also: every account whose overall colour is red, at or above the ARR "
        "threshold of the scorecard settings (the Monday leadership review).",
    )
    resolved_within_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Also: escalations resolved in the last this-many days (lessons learned).",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


class Escalation(models.Model):
    """A flagged CTA's trip up the chain: its level, deadline, routes and resolution."""

    cta = models.ForeignKey("ctas.Cta", on_delete=models.CASCADE, related_name="escalations")
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="escalations"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.TEAM)
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    reason = models.TextField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    opened_at = models.DateTimeField()
    level_since = models.DateTimeField()
    deadline_at = models.DateTimeField(help_text="The current level must acknowledge by then.")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.TextField(blank=True)
    # Where level 1 routed it: [{"kind": "lead"|"meeting"|"queue", "name": …, "id": …}]
    routes = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When csrisk last looked for suggestions."
    )

    class Meta:
        ordering = ["-level", "deadline_at", "pk"]
        indexes = [
            models.Index(fields=["status", "level", "deadline_at"]),
            models.Index(fields=["account", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["cta"], condition=Q(status="open"), name="one_open_escalation_per_cta"
            )
        ]

    def __str__(self) -> str:
        return f"{self.cta} — level {self.level} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN


class EscalationStep(models.Model):
    """One step on an escalation's timeline: who, when, from which level to which, why."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="steps")
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=24, choices=StepAction.choices)
    from_level = models.PositiveSmallIntegerField(null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class Suggestion(models.Model):
    """csrisk suggests a higher level, with the reason; accepted or dismissed once."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="suggestions")
    rule = models.CharField(max_length=20, choices=SuggestionRule.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-level", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["escalation", "rule"], name="one_suggestion_per_rule")
        ]

    def __str__(self) -> str:
        return f"Suggest level {self.level}: {self.reason}"


class AgendaReview(models.Model):
    """What a meeting decided about one agenda item on one date."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="reviews")
    date = models.DateField()
    item_key = models.CharField(max_length=40, help_text="cta:<id> or account:<id>")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    cta = models.ForeignKey(
        "ctas.Cta", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outcome = models.TextField(blank=True)
    next_step = models.CharField(max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField()

    class Meta:
        ordering = ["meeting", "-date", "item_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "date", "item_key"], name="one_review_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting} {self.date}: {self.item_key}"


class AccountSuggestion(models.Model):
    """csrisk suggests taking an account to level 2, flagged or not: the VP's lane."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="level_suggestions"
    )
    rule = models.CharField(max_length=20, choices=SuggestionRule.choices)
    level = models.PositiveSmallIntegerField(choices=Level.choices, default=Level.VP)
    reason = models.CharField(max_length=300)
    basis = models.CharField(
        max_length=300,
        help_text="What the reason rests on (a renewal date, a departure); a dismissed "
        "suggestion comes back only when this changes.",
    )
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    escalation = models.ForeignKey(
        Escalation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The escalation accepting it opened or raised.",
    )

    class Meta:
        ordering = ["-level", "pk"]
        indexes = [models.Index(fields=["status", "level"])]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "rule"], name="one_account_suggestion_per_rule"
            )
        ]

    def __str__(self) -> str:
        return f"Suggest level {self.level} for {self.account_id}: {self.reason}"
