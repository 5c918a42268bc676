"""The book of business: customer accounts, their contacts and their history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.choices import (
    ContactRole,
    ImportKind,
    ImportStatus,
    LifecycleStage,
    RelationshipKind,
    RenewalOutcomeKind,
    Segment,
    Tier,
)
from csrisk import clock


class Account(models.Model):
    """A customer account: ARR, segment, tier, renewal, owner CSM and external ids."""

    name = models.CharField(max_length=200)
    arr = models.DecimalField(
        "ARR",
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(max_length=3, default="USD")
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.SMB)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.NONE)
    industry = models.CharField(max_length=100, blank=True)
    renewal_date = models.DateField(null=True, blank=True)
    customer_since = models.DateField(null=True, blank=True)
    lifecycle_stage = models.CharField(
        max_length=20, choices=LifecycleStage.choices, default=LifecycleStage.ADOPTION
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
        help_text="The CSM who owns this account.",
    )
    team = models.ForeignKey(
        "csrisk.Team",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="accounts",
    )
    crm_id = models.CharField("CRM id", max_length=64, null=True, blank=True, unique=True)
    helpdesk_org_id = models.CharField(
        "help-desk organisation id", max_length=64, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["renewal_date"]),
            models.Index(fields=["-arr"]),
            models.Index(fields=["owner", "renewal_date"]),
            models.Index(fields=["team", "renewal_date"]),
            models.Index(fields=["segment"]),
            models.Index(fields=["name"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(arr__gte=0), name="account_arr_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        # Blank external ids are stored as NULL so the unique constraints allow many.
        self.crm_id = self.crm_id or None
        self.helpdesk_org_id = self.helpdesk_org_id or None
        super().save(*args, **kwargs)

    @property
    def days_to_renewal(self) -> int | None:
        """Days from today until the renewal (negative once it has passed)."""
        if self.renewal_date is None:
            return None
        return (self.renewal_date - clock.today()).days


class Contact(models.Model):
    """A person at a customer, with roles such as Executive Decision Maker or Champion."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True)
    roles = models.JSONField(
        default=list, blank=True, help_text="Role codes: " + ", ".join(ContactRole.values)
    )
    at_company = models.BooleanField("still at the company", default=True)
    left_on = models.DateField(null=True, blank=True)
    crm_id = models.CharField("CRM id", max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "name", "pk"]
        indexes = [models.Index(fields=["account", "email"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.account})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.crm_id = self.crm_id or None
        super().save(*args, **kwargs)

    def clean(self) -> None:
        unknown = [r for r in self.roles or [] if r not in ContactRole.values]
        if unknown or not isinstance(self.roles, list):
            raise ValidationError({"roles": f"Unknown contact roles: {unknown}"})

    @property
    def role_labels(self) -> list[str]:
        return [ContactRole(r).label for r in self.roles if r in ContactRole.values]

    @property
    def is_edm(self) -> bool:
        return ContactRole.EXECUTIVE_DECISION_MAKER in self.roles


class ContactTitleChange(models.Model):
    """One change of a contact's title; people changes are leading churn signals."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="title_changes")
    old_title = models.CharField(max_length=200, blank=True)
    new_title = models.CharField(max_length=200, blank=True)
    changed_on = models.DateField()
    source = models.CharField(max_length=50, default="manual")

    class Meta:
        ordering = ["-changed_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.contact.name}: {self.old_title} → {self.new_title}"


class PriorRelationship(models.Model):
    """An internal executive's existing tie to a customer (e.g. "the CEO knows their CEO")."""

    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="prior_relationships"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="prior_relationships"
    )
    kind = models.CharField(max_length=20, choices=RelationshipKind.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["account", "person"]
        constraints = [
            models.UniqueConstraint(fields=["account", "person"], name="one_relationship_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.person} — {self.account}: {self.get_kind_display()}"


class RenewalOutcome(models.Model):
    """How a past renewal ended; the ground truth the signal backtest learns from."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="renewals")
    renewal_date = models.DateField()
    outcome = models.CharField(max_length=20, choices=RenewalOutcomeKind.choices)
    arr_before = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    arr_after = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-renewal_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "renewal_date"], name="one_outcome_per_renewal"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.renewal_date}: {self.outcome}"


class ImportJob(models.Model):
    """One CSV import: the file, its dry-run report and, once committed, its progress.

    The file's bytes live in the row, not on a disk, so any web or worker host can run it.
    """

    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    filename = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == ImportStatus.DONE else 0
        return min(100, round(100 * self.processed_rows / self.total_rows))
