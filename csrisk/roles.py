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


class TeamFunction(models.TextChoices):
    CS = "cs", "Customer Success"
    SUPPORT = "support", "Support"
    SERVICES = "services", "Services"
    READINESS = "readiness", "Readiness / Enablement"
    PRODUCT = "product", "Product"
    ENGINEERING = "engineering", "Engineering"
    LEADERSHIP = "leadership", "Leadership"
