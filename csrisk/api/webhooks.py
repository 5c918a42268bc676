"""Outbound webhook subscriptions over the API (admins only): CRUD, and each one's recent
deliveries. Writes go through ``csrisk.webhooks`` so they are validated and audited."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from csrisk import webhooks
from csrisk.models import WebhookDelivery, WebhookSubscription
from csrisk.permissions import IsAdmin


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(webhooks.EVENTS)), allow_empty=False
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "name", "url", "events", "active", "secret", "created_at", "created_by"]
        read_only_fields = ["secret", "created_at", "created_by"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id", "event", "message_id", "status", "attempts", "max_attempts",
            "next_attempt_at", "last_attempt_at", "response_code", "last_error",
            "created_at", "delivered_at",
        ]  # fmt: skip
        read_only_fields = fields


class WebhookSubscriptionViewSet(viewsets.ModelViewSet):
    """Where csrisk POSTs its events, signed with each subscription's secret (shown to
    admins; receivers verify with it: docs/integrations.md)."""

    serializer_class = WebhookSubscriptionSerializer
    permission_classes = [IsAdmin]
    filterset_class = None
    ordering_fields = ["name", "created_at"]
    queryset = WebhookSubscription.objects.select_related("created_by").order_by("name", "pk")

    def perform_create(self, serializer: Any) -> None:
        fields = _fields(serializer)
        serializer.instance = webhooks.subscription_create(by=self.request.user, **fields)

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = webhooks.subscription_update(
            subscription=serializer.instance, by=self.request.user, **_fields(serializer)
        )

    def perform_destroy(self, instance: WebhookSubscription) -> None:
        webhooks.subscription_delete(subscription=instance, by=self.request.user)

    @extend_schema(
        responses={
            200: WebhookDeliverySerializer(many=True),
            404: OpenApiResponse(description="No subscription has this id."),
        }
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        """The subscription's latest 100 deliveries, newest first."""
        subscription = self.get_object()
        rows: QuerySet[WebhookDelivery] = subscription.deliveries.order_by("-created_at", "-pk")
        return Response(WebhookDeliverySerializer(rows[:100], many=True).data)


def _fields(serializer: Any) -> dict[str, Any]:
    keep = ("name", "url", "events", "active")
    return {k: v for k, v in serializer.validated_data.items() if k in keep}
