"""Fixed vocabularies of the escalation chain."""

from django.db import models


class Level(models.IntegerChoices):
    TEAM = 1, "Level 1 — team lead and owning team"
    VP = 2, "Level 2 — VP of Customer Success"
    CEO = 3, "Level 3 — CEO"


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Open"
    RESOLVED = "resolved", "Resolved"


class StepAction(models.TextChoices):
    OPENED = "opened", "Opened (flagged)"
    ESCALATED = "escalated", "Escalated"
    AUTO_ESCALATED = "auto_escalated", "Escalated automatically (deadline missed)"
    DE_ESCALATED = "de_escalated", "De-escalated"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    REMINDED = "reminded", "Reminder sent (deadline passed)"
    COMMENTED = "commented", "Commented"
    SUGGESTED = "suggested", "Suggested"
    SUGGESTION_DISMISSED = "suggestion_dismissed", "Suggestion dismissed"
    RESOLVED = "resolved", "Resolved"


class SuggestionRule(models.TextChoices):
    RENEWAL_AT_RISK = "renewal_at_risk", "Renewal at risk"
    HABITS_RED = "habits_red", "Habits scorecard red"
    EDM_CHANGED = "edm_changed", "Executive decision maker left or changed role"
    CEO_RELATIONSHIP = "ceo_relationship", "CEO has a prior relationship"
    # Filled by a registered reason source (escalation.services.suggestions.register_source)
    # such as the renewal-risk model's top band; escalation itself never computes it.
    RISK_TOP_BAND = "risk_top_band", "Renewal-risk model: top band"


class SuggestionStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACCEPTED = "accepted", "Accepted"
    DISMISSED = "dismissed", "Dismissed"
    OVERTAKEN = "overtaken", "Overtaken (escalated that far anyway)"


class MeetingKind(models.TextChoices):
    MEETING = "meeting", "Weekly meeting (agenda)"
    QUEUE = "queue", "Live queue (reviewed as items come in)"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"
