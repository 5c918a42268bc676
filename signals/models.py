"""The raw signal store, the history of each signal's versions, org aliases, rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from signals.choices import Kind, RuleTrigger, SignalStatus
from signals.provenance import VIA_CHOICES


class Signal(models.Model):
    """One signal from another system, stored once per (source, external_id).

    The row is written (and committed) before the sender gets its 202; a worker then turns
    it into facts (tickets, people changes…). A later version of the same signal (a ticket
    that was solved) replaces ``payload`` and bumps ``version``; the superseded payload
    moves to ``SignalVersion``.

    Designed for monthly range partitioning on PostgreSQL: ``month`` (the first day of the
    month the signal occurred in, fixed at first receipt) is part of the unique key, as
    PostgreSQL requires of a partitioned table's unique constraints, so the table can be
    declared ``PARTITION BY RANGE (month)`` without changing any query: every lookup by
    (source, external_id) uses the unique index's prefix. See docs/operations.md.
    """

    source = models.CharField(max_length=40)
    external_id = models.CharField(max_length=200)
    month = models.DateField(help_text="First day of the month it occurred in.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="signals",
        db_constraint=False,  # partition-friendly: no FK trigger on a hot append table
    )
    org_ref = models.CharField(
        max_length=200, blank=True, help_text="The sender's organisation key when unmatched."
    )
    occurred_at = models.DateTimeField()
    source_updated_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    digest = models.CharField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(
        max_length=12, choices=SignalStatus.choices, default=SignalStatus.PENDING
    )
    processed_version = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    # Who sent the current version (signals.provenance): the integration user or uploader,
    # how, and whether the sender was bound to this source (which decides who may update).
    sent_via = models.CharField(max_length=10, choices=VIA_CHOICES, blank=True, default="")
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,  # as ``account``: no FK trigger on the hot append table
    )
    sender = models.CharField(
        max_length=200, blank=True, default="", help_text="Who or what sent it, in words."
    )
    sent_bound = models.BooleanField(default=False)
    # The import of history that sent the current version (signals.backfills): processed
    # without alerting when dated before the backfill started. None: news.
    backfill = models.ForeignKey(
        "signals.Backfill",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="signals",
        db_constraint=False,  # as ``account``: no FK trigger on the hot append table
    )

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_id", "month"], name="one_signal_per_ref"
            )
        ]
        indexes = [
            models.Index(fields=["account", "-occurred_at"]),
            models.Index(fields=["-received_at"]),
            models.Index(
                fields=["status", "received_at"],
                name="signal_work_idx",
                condition=Q(status__in=["pending", "unmatched"]),
            ),
            # A backfill's progress (its signals by status); empty for news.
            models.Index(
                fields=["backfill", "status"],
                name="signal_backfill_idx",
                condition=Q(backfill__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id} ({self.kind})"

    @property
    def provenance(self) -> str:
        return self.sender or "unknown (received before csrisk recorded senders)"


class SignalVersion(models.Model):
    """A superseded version of a signal (e.g. the ticket before it was solved)."""

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    payload = models.JSONField(default=dict)
    digest = models.CharField(max_length=40)
    received_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        ordering = ["signal", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["signal", "version"], name="one_row_per_version")
        ]

    def __str__(self) -> str:
        return f"{self.signal} v{self.version}"


class OrgAlias(models.Model):
    """A sender's organisation key mapped to an account by a person (the "match" action)."""

    source = models.CharField(max_length=40)
    org_ref = models.CharField(max_length=200)
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="org_aliases"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["source", "org_ref"]
        constraints = [
            models.UniqueConstraint(fields=["source", "org_ref"], name="one_alias_per_org")
        ]
        verbose_name_plural = "org aliases"

    def __str__(self) -> str:
        return f"{self.source}:{self.org_ref} → {self.account}"


class HubSpotAssociation(models.Model):
    """A HubSpot contact's association with a HubSpot company, as the association-change
    webhooks told it (the latest change wins): how a contact's title change or deletion
    finds its company, since those events carry only the contact's id."""

    contact_id = models.CharField(max_length=64)
    company_id = models.CharField(max_length=64)
    removed = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["contact_id", "company_id"], name="one_hubspot_association"
            )
        ]

    def __str__(self) -> str:
        return f"contact {self.contact_id} {'x' if self.removed else '→'} company {self.company_id}"


class ProductUser(models.Model):
    """Which organisation (a group id) a product-analytics user belongs to, from the
    source's group calls (Segment ``group``); a later call moves the user."""

    source = models.CharField(max_length=40)
    user_id = models.CharField(max_length=200)
    org_ref = models.CharField(max_length=200)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "user_id"], name="one_org_per_product_user")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.user_id} → {self.org_ref}"


class SeenMessage(models.Model):
    """A message id already counted in the usage rollups (Segment ``messageId``): the
    bounded de-duplication store. Written in the transaction that adds the message to the
    rollups, so a count and its id commit together; rows older than
    CSRISK_USAGE_DEDUPE_DAYS are deleted by the sweeper, and messages older than that are
    refused, so a purged id can never be counted twice."""

    # The key itself is the primary key: one index per row written, not two.
    pk = models.CompositePrimaryKey("source", "message_id")
    source = models.CharField(max_length=40)
    message_id = models.CharField(max_length=200)
    seen_on = models.DateField(db_index=True)

    def __str__(self) -> str:
        return f"{self.source}:{self.message_id}"


class ActiveUserDay(models.Model):
    """A user seen active on a day in an organisation: what makes ``DailyUsage.active_users``
    a count of distinct users (one row per user and day, not per event). Purged with the
    seen messages: a day older than the de-duplication window takes no more events."""

    pk = models.CompositePrimaryKey("source", "org_ref", "day", "user_id")
    source = models.CharField(max_length=40)
    org_ref = models.CharField(max_length=200)
    day = models.DateField(db_index=True)
    user_id = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.org_ref} {self.day}: {self.user_id}"


class IngestRejection(models.Model):
    """A count of rejected items per source and day, for the ingestion-health page."""

    source = models.CharField(max_length=40)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)
    last_reason = models.CharField(max_length=300, blank=True)
    last_at = models.DateTimeField()

    class Meta:
        ordering = ["-day", "source"]
        constraints = [
            models.UniqueConstraint(fields=["source", "day"], name="one_rejection_row_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.day}: {self.count} rejected"


class IdempotencyRecord(models.Model):
    """The answer given to one Idempotency-Key, so a replay gets the same answer."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="one_answer_per_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class SignalRule(models.Model):
    """When a signal or a measure crosses a threshold, open a de-duplicated CTA."""

    name = models.CharField(max_length=120, unique=True)
    active = models.BooleanField(default=True)
    trigger = models.CharField(max_length=20, choices=RuleTrigger.choices)
    roles = models.JSONField(
        default=list, blank=True, help_text="Contact roles (contact_left / title_downgrade)."
    )
    activities = models.JSONField(
        default=list, blank=True, help_text="Competitor activities (competitor)."
    )
    threshold = models.FloatField(null=True, blank=True)
    window_days = models.PositiveIntegerField(default=90)
    cta_area = models.CharField(max_length=20)
    cta_priority = models.CharField(max_length=10, default="high")
    cta_reason = models.CharField(
        max_length=200,
        help_text="The CTA's reason; {name}, {title}, {competitor}, {value} are filled in.",
    )
    cta_description = models.TextField(blank=True)
    playbook = models.ForeignKey(
        "ctas.Playbook",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Applied to the CTA the rule opens (its tasks, owners and due dates).",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Backfill(models.Model):
    """One import of history: its signals update facts, colours and history, but what they
    change dated before ``started_at`` alerts nobody (signals.backfills)."""

    VIAS = [
        ("rest", "REST batch"),
        ("webhook", "webhook"),
        ("csv", "CSV upload"),
        ("command", "manage.py import_signals"),
    ]

    via = models.CharField(max_length=10, choices=VIAS)
    source = models.CharField(max_length=200, blank=True, help_text="The sources it named.")
    started_at = models.DateTimeField(help_text="Changes dated before this are history.")
    finished_at = models.DateTimeField(
        null=True, blank=True, help_text="All of it stored (a file); None while it goes on."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sender = models.CharField(max_length=200, help_text="Who or what sent it, in words.")
    sent = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"backfill #{self.pk} from {self.source or self.via} by {self.sender}"


class SignalImport(models.Model):
    """One CSV upload of tickets or contact changes: the file, its preview, its result."""

    KINDS = [("tickets", "Tickets"), ("contact_changes", "Contact changes")]
    STATUSES = [
        ("previewed", "Previewed"),
        ("invalid", "Has errors"),
        ("done", "Imported"),
    ]

    kind = models.CharField(max_length=20, choices=KINDS)
    filename = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=12, choices=STATUSES, default="previewed")
    total_rows = models.PositiveIntegerField(default=0)
    accepted = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    history = models.BooleanField(
        default=False, help_text="Import as history (a backfill): no alerts for past changes."
    )
    backfill = models.ForeignKey(
        Backfill, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.status})"
