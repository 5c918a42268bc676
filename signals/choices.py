"""Vocabularies of signal ingestion."""

from django.db import models


class Kind(models.TextChoices):
    TICKET = "ticket", "Ticket"
    ORG_CHANGE = "org_change", "People change"
    COMPETITOR = "competitor", "Competitor"
    USAGE = "usage", "Usage"
    SENTIMENT = "sentiment", "Sentiment"


class SignalStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be processed"
    PROCESSED = "processed", "Processed"
    UNMATCHED = "unmatched", "Unknown organisation (parked)"
    FAILED = "failed", "Failed"


class RuleTrigger(models.TextChoices):
    CONTACT_LEFT = "contact_left", "A contact with one of the roles left"
    TITLE_DOWNGRADE = "title_downgrade", "A contact with one of the roles was downgraded"
    COMPETITOR = "competitor", "Competitor activity of the chosen kinds"
    VELOCITY = "velocity", "Non-critical ticket velocity at or above the threshold"
    URGENT_TICKETS = (
        "urgent_tickets",
        "Urgent tickets opened in the window at or above the threshold",
    )
    LOW_NPS = "low_nps", "An NPS answer at or below the threshold"
