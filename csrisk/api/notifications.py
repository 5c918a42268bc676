"""A person's own notifications over the API: the bell's list, and marking them read.

The rules are the page's (``csrisk.notifications``): ``of_user`` lists, ``mark_read`` marks;
someone else's notification is not found."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from csrisk import notifications
from csrisk.models import Notification

ERRORS = {
    400: OpenApiResponse(description="A bad filter or page parameter, named."),
    401: OpenApiResponse(description="No or invalid credentials."),
    403: OpenApiResponse(description="An integration token: notifications are for people."),
}


class NotificationSerializer(serializers.ModelSerializer):
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "created_at", "read_at", "unread"]
        read_only_fields = fields

    def get_unread(self, notification: Notification) -> bool:
        return notification.read_at is None


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many were unread and are read now.")
    unread = serializers.IntegerField(help_text="How many unread remain (the bell's count).")


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(
        field_name="read_at", lookup_expr="isnull", label="Unread only (true) or read (false)"
    )
    kind = django_filters.CharFilter(label="Kind of event")

    class Meta:
        model = Notification
        fields: list[str] = []


def _marked(request: Request, marked: int) -> Response:
    unread = notifications.unread_count(request.user)
    return Response(MarkedSerializer({"marked": marked, "unread": unread}).data)


@extend_schema_view(
    list=extend_schema(responses={200: NotificationSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(
        responses={
            200: NotificationSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No notification of yours has this id."),
        }
    ),
)
class NotificationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Your notifications, newest first (the bell and /notifications/)."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["created_at"]
    queryset = Notification.objects.none()  # the schema's model; requests use get_queryset

    def get_queryset(self) -> QuerySet[Notification]:
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return notifications.of_user(self.request.user)

    @extend_schema(
        request=None,
        responses={
            200: MarkedSerializer,
            **ERRORS,
            404: OpenApiResponse(description="No notification of yours has this id."),
        },
        summary="Mark one of your notifications read",
    )
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notification = self.get_object()
        return _marked(request, notifications.mark_read(user=request.user, ids=[notification.pk]))

    @extend_schema(
        request=None,
        responses={200: MarkedSerializer, **ERRORS},
        summary="Mark all your notifications read",
    )
    @action(detail=False, methods=["post"], url_path="read-all", filterset_class=None)
    def read_all(self, request: Request) -> Response:
        return _marked(request, notifications.mark_read(user=request.user))
