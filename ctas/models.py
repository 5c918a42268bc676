"""CTAs (calls to action), their tasks from playbooks, and their chatter."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from csrisk import clock
from csrisk.validators import validate_one_line
from ctas.choices import CtaType, Outcome, Priority, Source, Status
from scorecards.choices import AreaCode


class CtaReason(models.Model):
    """A reason a CTA of a type may be opened for (configuration, editable in the admin)."""

    type = models.CharField(max_length=20, choices=CtaType.choices)
    label = models.CharField(max_length=200, validators=[validate_one_line])
    area = models.CharField(max_length=20, choices=AreaCode.choices, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["type", "label"]
        constraints = [models.UniqueConstraint(fields=["type", "label"], name="one_reason")]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.label}"


class Playbook(models.Model):
    """A reusable list of tasks applied to a CTA (editable in the admin)."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_one_line])
    description = models.TextField(blank=True)
    cta_type = models.CharField(max_length=20, choices=CtaType.choices, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(models.Model):
    """One task of a playbook: title, who does it (by role), when (days after opening)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200, validators=[validate_one_line])
    owner_role = models.CharField(
        max_length=20, default="owner", help_text="owner, team_lead, sponsor, vp_cs, …"
    )
    due_offset_days = models.PositiveSmallIntegerField(default=7)
    guidance = models.TextField(blank=True, help_text="Guidance, or questions one per line.")
    min_arr = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Only for accounts at or above this ARR (e.g. assign an executive sponsor).",
    )

    class Meta:
        ordering = ["playbook", "position", "pk"]

    def __str__(self) -> str:
        return f"{self.playbook}: {self.title}"


class Cta(models.Model):
    """A unit of work on an account, with its owner, due date, status and flag."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="ctas")
    type = models.CharField(max_length=20, choices=CtaType.choices, default=CtaType.RISK)
    area = models.CharField(max_length=20, choices=AreaCode.choices, blank=True)
    reason = models.CharField(max_length=200, validators=[validate_one_line])
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ctas"
    )
    due_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    snoozed_until = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    playbook = models.ForeignKey(Playbook, null=True, blank=True, on_delete=models.SET_NULL)
    flagged = models.BooleanField(default=False)
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    flagged_at = models.DateTimeField(null=True, blank=True)
    flag_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    # The page form's one-time token: a double submit returns the CTA it opened.
    submission = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-flagged", "due_date", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"]),
            models.Index(fields=["account", "area", "status"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["created_by", "submission"], name="one_cta_per_submission"
            ),
            # Rules never open a second CTA for the same account, type and reason while one
            # is still live; manual CTAs are the CSM's call.
            models.UniqueConstraint(
                fields=["account", "type", "reason"],
                condition=Q(source="rule") & ~Q(status="closed"),
                name="one_live_rule_cta",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} CTA on {self.account}: {self.reason}"

    @property
    def is_live(self) -> bool:
        return self.status != Status.CLOSED

    @property
    def is_overdue(self) -> bool:
        return self.is_live and self.due_date < clock.today()


class CtaTask(models.Model):
    """A task on a CTA (from its playbook or added by hand)."""

    cta = models.ForeignKey(Cta, on_delete=models.CASCADE, related_name="tasks")
    position = models.PositiveSmallIntegerField(default=0)
    title = models.CharField(max_length=200, validators=[validate_one_line])
    guidance = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cta_tasks",
    )
    due_date = models.DateField()
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["cta", "position", "pk"]

    def __str__(self) -> str:
        return self.title


class Comment(models.Model):
    """A message in a CTA's chatter; plain text, @mentions notify at once."""

    cta = models.ForeignKey(Cta, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=5000)
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    created_at = models.DateTimeField()
    # The chatter form's one-time token: a double submit adds the comment once.
    submission = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "submission"], name="one_comment_per_submission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.body[:40]}"
