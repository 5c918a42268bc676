"""CTA vocabularies (PRODUCT.md, "CTAs and playbooks")."""

from django.db import models


class CtaType(models.TextChoices):
    RISK = "risk", "Risk"
    LIFECYCLE = "lifecycle", "Lifecycle"
    SPONSOR_CHECKIN = "sponsor_checkin", "Sponsor check-in"
    SPONSOR_HELP = "sponsor_help", "Sponsor help request"
    NEW_CUSTOMER = "new_customer", "New customer"
    RENEWAL = "renewal", "Renewal"
    EXPANSION = "expansion", "Expansion"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class Status(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    SNOOZED = "snoozed", "Snoozed"
    CLOSED = "closed", "Closed"


LIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.SNOOZED)


class Source(models.TextChoices):
    MANUAL = "manual", "Manual"
    RULE = "rule", "Rule"
    PROGRAM = "program", "Program"


class Outcome(models.TextChoices):
    RESOLVED = "resolved", "Resolved: risk addressed"
    MITIGATED = "mitigated", "Mitigated: watching"
    NO_ACTION = "no_action", "No action needed"
    DONE = "done", "Done (logged)"
    ESCALATED = "escalated", "Handed to escalation"
    LOST = "lost", "Customer lost"
