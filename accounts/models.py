"""The book of business: customer accounts, their contacts and their history."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.choices import (
    CompetitorActivity,
    ContactRole,
    ImportKind,
    ImportStatus,
    LifecycleStage,
    PeopleChangeKind,
    RelationshipKind,
    RenewalOutcomeKind,
    Segment,
    TicketKind,
    TicketPriority,
    TicketStatus,
    Tier,
)
from csrisk import clock
from csrisk.validators import validate_one_line


class Account(models.Model):
    """A customer account: ARR, segment, tier, renewal, owner CSM and external ids."""

    name = models.CharField(max_length=200, validators=[validate_one_line])
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
    hubspot_company_id = models.CharField(
        "HubSpot company id", max_length=64, null=True, blank=True, unique=True
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
        self.hubspot_company_id = self.hubspot_company_id or None
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
    name = models.CharField(max_length=200, validators=[validate_one_line])
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True, validators=[validate_one_line])
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
    # When its task (checking or importing) was last sent: the sweeper resends a lost one.
    queued_at = models.DateTimeField(null=True, blank=True)
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


# --- What the book knows about each customer's activity -----------------------------------
# Facts that scorecard measures read. The signals app writes them from integrations, CSV
# and webhooks; the demo book seeds them. (source, external_id) identifies a fact from
# another system so that resending it updates instead of duplicating.


class Ticket(models.Model):
    """A help-desk ticket or an engineering defect raised for a customer."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tickets")
    source = models.CharField(max_length=40, default="manual")
    external_id = models.CharField(max_length=200, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=TicketKind.choices, default=TicketKind.SUPPORT)
    subject = models.CharField(max_length=300, blank=True)
    priority = models.CharField(
        max_length=10, choices=TicketPriority.choices, default=TicketPriority.NORMAL
    )
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    tags = models.JSONField(default=list, blank=True)
    requester_group = models.CharField(
        max_length=100, blank=True, help_text="The customer's team that raised it."
    )
    opened_at = models.DateTimeField()
    solved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(fields=["account", "opened_at"]),
            models.Index(fields=["opened_at"]),
            # Support tickets by date with what the velocity counts need (the summary's
            # blind spots and actions): answered from the index alone.
            models.Index(
                fields=["opened_at", "account", "priority"],
                condition=Q(kind="support"),
                name="support_tickets_opened",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_ticket_per_ref")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.external_id or self.pk} ({self.priority})"


class UsageSnapshot(models.Model):
    """Weekly product usage of an account: active vs licensed users, feature adoption."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage")
    week = models.DateField(help_text="The Monday of the week measured.")
    active_users = models.PositiveIntegerField()
    licensed_users = models.PositiveIntegerField()
    adoption = models.FloatField(null=True, blank=True, help_text="Key-feature adoption, 0–1.")

    class Meta:
        ordering = ["-week"]
        constraints = [
            models.UniqueConstraint(fields=["account", "week"], name="one_usage_per_week")
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.week}: {self.active_users}/{self.licensed_users}"


class DailyUsage(models.Model):
    """One day of product usage as an analytics source (Segment) reported it, rolled up per
    organisation: distinct active users and events, never a row per event. ``org_ref`` is
    the sender's organisation key (a group id, which is an account's external id); the
    account is null while nobody knows that organisation (parked, like unmatched signals)
    and is set when an account gains that id or a person matches it."""

    source = models.CharField(max_length=40)
    org_ref = models.CharField(max_length=200)
    day = models.DateField()
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="daily_usage",
        db_index=False,  # the (account, day) index serves; one index less per write
    )
    active_users = models.PositiveIntegerField(default=0)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day"]
        indexes = [models.Index(fields=["account", "day"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "org_ref", "day"], name="one_usage_per_org_and_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org_ref} {self.day}: {self.active_users} users, {self.events} events"


class DailyFeatureUsage(models.Model):
    """Events of one configured key feature on one day (``DailyUsage``'s per-feature part)."""

    source = models.CharField(max_length=40)
    org_ref = models.CharField(max_length=200)
    day = models.DateField()
    feature = models.CharField(max_length=100)
    events = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-day", "feature"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "org_ref", "day", "feature"], name="one_feature_usage_per_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.org_ref} {self.day} {self.feature}: {self.events}"


class SentimentResponse(models.Model):
    """An NPS (0–10) or CSAT (1–5) answer from someone at the customer."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sentiment")
    source = models.CharField(max_length=40, default="manual")
    external_id = models.CharField(max_length=200, null=True, blank=True)
    responded_at = models.DateTimeField()
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-responded_at"]
        indexes = [models.Index(fields=["account", "responded_at"])]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_sentiment_per_ref"),
            models.CheckConstraint(condition=Q(nps__lte=10), name="nps_0_10"),
            models.CheckConstraint(condition=Q(csat__gte=1, csat__lte=5), name="csat_1_5"),
        ]

    def __str__(self) -> str:
        return f"{self.account}: NPS {self.nps} CSAT {self.csat}"


class PeopleChange(models.Model):
    """A change among the customer's people: someone left or joined, a title, a reorg."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="people_changes")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="changes"
    )
    change = models.CharField(max_length=20, choices=PeopleChangeKind.choices)
    occurred_at = models.DateTimeField()
    roles = models.JSONField(default=list, blank=True, help_text="The person's roles then.")
    old_title = models.CharField(max_length=200, blank=True)
    new_title = models.CharField(max_length=200, blank=True)
    from_company = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=40, default="manual")
    external_id = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["account", "occurred_at"])]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_change_per_ref")
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.get_change_display()} {self.occurred_at:%Y-%m-%d}"


class CompetitorEvent(models.Model):
    """The customer evaluating, engaging with or mentioning a competitor."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="competitors")
    competitor = models.CharField(max_length=100)
    activity = models.CharField(max_length=20, choices=CompetitorActivity.choices)
    occurred_at = models.DateTimeField()
    note = models.TextField(blank=True)
    source = models.CharField(max_length=40, default="manual")
    external_id = models.CharField(max_length=200, null=True, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["account", "occurred_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id"], name="one_competitor_event_per_ref"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.activity} {self.competitor}"


class Milestone(models.Model):
    """An implementation milestone with its due date and, once met, its completion date."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="milestones")
    name = models.CharField(max_length=200, validators=[validate_one_line])
    due_on = models.DateField()
    completed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        return f"{self.account}: {self.name} (due {self.due_on})"


class ReadinessAssessment(models.Model):
    """How ready the customer is to adopt: data, skills and staffing, each 1 (not) to 5."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="readiness")
    assessed_on = models.DateField()
    data = models.PositiveSmallIntegerField()
    skills = models.PositiveSmallIntegerField()
    staffing = models.PositiveSmallIntegerField()
    note = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-assessed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    data__gte=1,
                    data__lte=5,
                    skills__gte=1,
                    skills__lte=5,
                    staffing__gte=1,
                    staffing__lte=5,
                ),
                name="readiness_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.assessed_on}: {self.data}/{self.skills}/{self.staffing}"
