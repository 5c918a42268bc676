"""Internal people: users with a role, and the teams they belong to."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractUser
from django.db import models

from csrisk.roles import ORG_WIDE_ROLES, Role, TeamFunction
from csrisk.validators import validate_one_line


class Team(models.Model):
    """A group of internal people; a CS team is led by a team lead and holds CSMs."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_one_line])
    function = models.CharField(
        max_length=20, choices=TeamFunction.choices, default=TeamFunction.CS
    )
    lead = models.ForeignKey(
        "csrisk.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    chat_webhook_url = models.URLField(
        blank=True,
        max_length=500,
        help_text="Optional chat webhook for this team's alerts (Slack-compatible or a "
        "Microsoft Teams Workflows webhook).",
    )
    chat_format = models.CharField(
        max_length=10,
        blank=True,
        choices=[("slack", "Slack-compatible"), ("teams", "Microsoft Teams (Workflows)")],
        help_text="The shape of this team's webhook posts; empty: CHAT_WEBHOOK_FORMAT.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """An internal person (CSM, lead, VP, exec…) or a machine integration."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CSM)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    title = models.CharField(max_length=120, blank=True, validators=[validate_one_line])

    class Meta:
        ordering = ["username"]
        indexes = [models.Index(fields=["role"])]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_integration(self) -> bool:
        return self.role == Role.INTEGRATION

    @property
    def is_org_wide(self) -> bool:
        """VP and CEO (and superusers) see and change the whole book."""
        return self.is_superuser or self.role in ORG_WIDE_ROLES

    def led_team_ids(self) -> list[int]:
        if self.role != Role.TEAM_LEAD:
            return []
        return list(self.led_teams.values_list("pk", flat=True))


class SsoIdentity(models.Model):
    """The identity provider's account (issuer + subject) a person signs in with (docs/sso.md)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sso_identities")
    issuer = models.CharField(max_length=300)
    # The provider's stable id for the person ("sub"); an e-mail address can change hands.
    subject = models.CharField(max_length=255)
    created_at = models.DateTimeField()
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["issuer", "subject"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="one_user_per_sso_subject")
        ]
        verbose_name = "SSO identity"
        verbose_name_plural = "SSO identities"

    def __str__(self) -> str:
        return f"{self.user} at {self.issuer} ({self.subject})"


class AuditEntry(models.Model):
    """Who did what to which object, when and why; every change of ownership or state."""

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_entries"
    )
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60, help_text="app_label.model of the target")
    target_id = models.BigIntegerField()
    # The customer account this concerns, as a plain id: csrisk/ sits below every app, so
    # it may not import accounts; a timeline per account filters on this column.
    account_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["target_type", "target_id", "-at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        target = f"{self.target_type}#{self.target_id}"
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {target}"


class Notification(models.Model):
    """Something a person should know, delivered in-app (e-mail and chat build on it)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    # Delivery state per channel, so a retried task never sends twice.
    emailed_at = models.DateTimeField(null=True, blank=True)
    chatted_at = models.DateTimeField(null=True, blank=True)
    digest = models.BooleanField(default=False, help_text="Waits for the daily digest e-mail.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="one_notification_per_key")
        ]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"


class DeliveryFailure(models.Model):
    """An e-mail or chat message that could not be sent, kept for an admin to see."""

    EMAIL, CHAT = "email", "chat"
    CHANNEL_CHOICES = [(EMAIL, "E-mail"), (CHAT, "Chat")]

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="delivery_failures")
    # Empty for a digest, which carries several notifications.
    notification = models.ForeignKey(
        Notification,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="delivery_failures",
    )
    channel = models.CharField(max_length=10, choices=CHANNEL_CHOICES)
    subject = models.CharField(max_length=200, blank=True)
    error = models.TextField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.channel} to {self.user}: {self.subject}"


class NotificationPreference(models.Model):
    """How one person wants to hear about one kind of event."""

    IMMEDIATE, DIGEST, OFF = "immediate", "digest", "off"
    EMAIL_CHOICES = [(IMMEDIATE, "E-mail at once"), (DIGEST, "Daily digest"), (OFF, "No e-mail")]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notification_prefs")
    kind = models.CharField(max_length=40)
    email = models.CharField(max_length=10, choices=EMAIL_CHOICES, default=IMMEDIATE)
    chat = models.BooleanField(default=True, help_text="Post to the team's chat webhook.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_pref_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind} → {self.email}"


class ApiToken(models.Model):
    """A REST credential (``Authorization: Token <key>``); only the key's SHA-256 is kept.

    The key is 40 random bytes, so a plain SHA-256 (not a slow password hash) is enough:
    nobody can guess their way back from the digest. ``prefix`` (the key's first eight
    characters) lets the owner recognise it in lists. ``sources`` binds an integration
    token to the signal sources it may write; empty means any source.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    sources = models.JSONField(
        default=list,
        blank=True,
        help_text="Signal sources this token may write (empty: any source).",
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"

    def state(self, now: dt.datetime) -> str:
        """The token's state at ``now``: active, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def describe(self) -> str:
        """How a signal's record names this token: its id, prefix and binding."""
        bound = f", bound to {', '.join(self.sources)}" if self.sources else ", unbound"
        return f"token #{self.pk} {self.prefix}…{bound}"


class WebhookSubscription(models.Model):
    """An outside system that wants csrisk's events POSTed to it, signed with its secret."""

    name = models.CharField(max_length=100, validators=[validate_one_line])
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text="The event types it receives.")
    # Sent to the receiver to verify signatures with, so it is kept as is (an admin sees it).
    secret = models.CharField(max_length=100, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name


class WebhookDelivery(models.Model):
    """One event for one subscription: its signed body, attempts and the last answer."""

    PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
    STATUS_CHOICES = [(PENDING, "Pending"), (DELIVERED, "Delivered"), (FAILED, "Failed")]

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.CharField(max_length=60)
    # The webhook-id header: the same on every attempt, so a receiver can drop repeats.
    message_id = models.CharField(max_length=40, unique=True)
    body = models.TextField(help_text="The exact JSON that is signed and sent.")
    status = models.CharField(max_length=10, choices=STATUS_CHOICES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event} → {self.subscription} ({self.status})"


class CalendarFeed(models.Model):
    """A person's secret calendar (ICS) address; only the key's SHA-256 is kept, as for
    API tokens, so a copy of the database cannot read anyone's calendar."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
