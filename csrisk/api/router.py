"""The v1 API router: each app registers its viewsets here."""

from rest_framework.routers import DefaultRouter

from accounts.api.views import AccountViewSet, ContactViewSet
from csrisk.api.notifications import NotificationViewSet
from csrisk.api.tokens import TokenViewSet
from csrisk.api.webhooks import WebhookSubscriptionViewSet
from ctas.api.views import CtaViewSet, PlaybookViewSet
from escalation.api.views import EscalationViewSet, MeetingViewSet
from scorecards.api.views import ScorecardViewSet
from sponsors.api.views import CheckInViewSet, ProgramViewSet, SponsorshipViewSet

router = DefaultRouter()
router.register("accounts", AccountViewSet, basename="account")
router.register("contacts", ContactViewSet, basename="contact")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("ctas", CtaViewSet, basename="cta")
router.register("playbooks", PlaybookViewSet, basename="playbook")
router.register("escalations", EscalationViewSet, basename="escalation")
router.register("meetings", MeetingViewSet, basename="meeting")
router.register("sponsor-programs", ProgramViewSet, basename="sponsor-program")
router.register("sponsorships", SponsorshipViewSet, basename="sponsorship")
router.register("checkins", CheckInViewSet, basename="checkin")
router.register("tokens", TokenViewSet, basename="token")
router.register("notifications", NotificationViewSet, basename="notification")
router.register(
    "webhook-subscriptions", WebhookSubscriptionViewSet, basename="webhook-subscription"
)
