"""Choices for customer accounts and contacts."""

from django.db import models


class Segment(models.TextChoices):
    SMB = "smb", "SMB"
    MID_MARKET = "mid_market", "Mid-market"
    ENTERPRISE = "enterprise", "Enterprise"
    STRATEGIC = "strategic", "Strategic"


class Tier(models.TextChoices):
    """Executive-sponsor program tier."""

    NONE = "none", "None"
    ENTERPRISE = "enterprise", "Enterprise (high touch)"
    STRATEGIC = "strategic", "Strategic (ultra-high touch)"


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", "Onboarding"
    ADOPTION = "adoption", "Adoption"
    MATURE = "mature", "Mature"
    RENEWAL = "renewal", "Renewal"
    CHURNED = "churned", "Churned"


class ContactRole(models.TextChoices):
    EXECUTIVE_DECISION_MAKER = "edm", "Executive Decision Maker"
    CHAMPION = "champion", "Champion"
    ADMIN = "admin", "Admin"
    USER = "user", "User"
    BILLING = "billing", "Billing"
    TECHNICAL = "technical", "Technical lead"


class RenewalOutcomeKind(models.TextChoices):
    RENEWED = "renewed", "Renewed"
    CHURNED = "churned", "Churned"
    DOWNSOLD = "downsold", "Downsold"


class RelationshipKind(models.TextChoices):
    SALES_CYCLE = "sales_cycle", "Was in the sales cycle"
    PERSONAL = "personal", "Knows their executive personally"
    FORMER_COLLEAGUE = "former_colleague", "Former colleague of their executive"
    BOARD = "board", "Board or investor connection"
    OTHER = "other", "Other"


class ImportKind(models.TextChoices):
    ACCOUNTS = "accounts", "Accounts"
    CONTACTS = "contacts", "Contacts"


class ImportStatus(models.TextChoices):
    CHECKING = "checking", "Checking"  # a large file's rows are being checked in the background
    PREVIEWED = "previewed", "Previewed"
    INVALID = "invalid", "Has errors"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed"


class TicketKind(models.TextChoices):
    SUPPORT = "support", "Support ticket"
    DEFECT = "defect", "Defect (engineering)"


class TicketPriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    PENDING = "pending", "Pending"
    SOLVED = "solved", "Solved"
    CLOSED = "closed", "Closed"


OPEN_TICKET_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.PENDING)


class PeopleChangeKind(models.TextChoices):
    LEFT = "left", "Left the company"
    JOINED = "joined", "Joined"
    TITLE_CHANGED = "title_changed", "Title changed"
    REORG = "reorg", "Reorganisation"


class CompetitorActivity(models.TextChoices):
    EVALUATION = "evaluation", "Evaluation"
    ENGAGEMENT = "engagement", "Engagement"
    MENTION = "mention", "Mention"
