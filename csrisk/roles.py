"""The roles internal people have in csrisk (PRODUCT.md, "People")."""

from django.db import models


class Role(models.TextChoices):
    CSM = "csm", "CSM"
    TEAM_LEAD = "team_lead", "Team lead"
    VP_CS = "vp_cs", "VP of Customer Success"
    CEO = "ceo", "CEO"
    EXECUTIVE = "executive", "Executive"
    SUPPORT = "support", "Support"
    SERVICES = "services", "Services"
    READINESS = "readiness", "Readiness / Enablement"
    PRODUCT = "product", "Product"
    ENGINEERING = "engineering", "Engineering"
    INTEGRATION = "integration", "Integration (API client)"


# Who sees the whole book and may change any account.
ORG_WIDE_ROLES = frozenset({Role.VP_CS, Role.CEO})
# Who may be an executive sponsor or hold a prior relationship with a customer.
EXECUTIVE_ROLES = frozenset({Role.EXECUTIVE, Role.VP_CS, Role.CEO})
# The departments that own risk areas (RACI) by role: they work from their area queue.
DEPARTMENT_ROLES = frozenset(
    {Role.SUPPORT, Role.SERVICES, Role.READINESS, Role.PRODUCT, Role.ENGINEERING}
)


class TeamFunction(models.TextChoices):
    CS = "cs", "Customer Success"
    SUPPORT = "support", "Support"
    SERVICES = "services", "Services"
    READINESS = "readiness", "Readiness / Enablement"
    PRODUCT = "product", "Product"
    ENGINEERING = "engineering", "Engineering"
    LEADERSHIP = "leadership", "Leadership"


# The page each role works from: where logging in lands, and the first item of the
# navigation. A CSM works their cockpit, a lead reviews their team's scorecards (the 1:1),
# the VP works the escalation queue, the CEO reads the summary, an executive sponsor their
# check-ins; the functions that own risk areas (RACI) work their area queue.
HOME_PAGES: dict[str, str] = {
    Role.CSM: "cockpit:index",
    Role.TEAM_LEAD: "scorecards:review",
    Role.VP_CS: "escalation:list",
    Role.CEO: "summary:index",
    Role.EXECUTIVE: "sponsors:program",
    **dict.fromkeys(DEPARTMENT_ROLES, "cockpit:queue"),
}
DEFAULT_HOME_PAGE = "cockpit:index"


def home_page(user: object) -> str:
    """The URL name of ``user``'s working page (see ``HOME_PAGES``)."""
    return HOME_PAGES.get(getattr(user, "role", ""), DEFAULT_HOME_PAGE)
