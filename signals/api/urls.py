from django.urls import path

from signals.api import views

urlpatterns = [
    path("signals/", views.SignalIngestView.as_view(), name="api-signals"),
    path("signals/<int:pk>/", views.SignalDetailView.as_view(), name="api-signal-detail"),
    path("webhooks/zendesk/", views.ZendeskWebhookView.as_view(), name="api-webhook-zendesk"),
    path("webhooks/jira/", views.JiraWebhookView.as_view(), name="api-webhook-jira"),
    path("backfills/<int:pk>/", views.BackfillStatusView.as_view(), name="api-backfill"),
    path("webhooks/crm/", views.CrmWebhookView.as_view(), name="api-webhook-crm"),
    path("webhooks/hubspot/", views.HubSpotWebhookView.as_view(), name="api-webhook-hubspot"),
    path("webhooks/segment/", views.SegmentWebhookView.as_view(), name="api-webhook-segment"),
]
