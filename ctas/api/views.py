from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from ctas.api.serializers import (
    CloseSerializer,
    CommentInSerializer,
    CommentSerializer,
    CtaCreateSerializer,
    CtaSerializer,
    CtaUpdateSerializer,
    FlagSerializer,
    PlaybookSerializer,
    SnoozeSerializer,
    UnflagSerializer,
)
from ctas.filtersets import CtaFilterSet
from ctas.models import Cta, Playbook
from ctas.services import chatter, creation, transitions

ERRORS = {
    400: {"description": "Invalid input, or a state change not allowed now (e.g. closed)."},
    401: {"description": "No or invalid credentials."},
    403: {"description": "Not allowed: another team's CTA or account."},
    404: {"description": "No such CTA."},
}


def _command(serializer: type[BaseSerializer], summary: str) -> Any:
    return extend_schema(
        request=serializer, responses={200: CtaSerializer, **ERRORS}, summary=summary
    )


@extend_schema_view(
    list=extend_schema(responses={200: CtaSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: CtaSerializer, **ERRORS}),
    create=extend_schema(request=CtaCreateSerializer, responses={201: CtaSerializer, **ERRORS}),
    partial_update=extend_schema(
        request=CtaUpdateSerializer, responses={200: CtaSerializer, **ERRORS}
    ),
)
class CtaViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CTAs. Reads for every internal person; changes by the owner, their lead, VP, CEO."""

    serializer_class = CtaSerializer
    filterset_class = CtaFilterSet
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["due_date", "created_at", "updated_at", "priority"]
    ordering = ["-flagged", "due_date", "id"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Cta]:
        return Cta.objects.select_related("account", "owner", "flagged_by").prefetch_related(
            "tasks"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CtaCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["area"] = values.get("area") or ""
        cta = creation.cta_create(by=request.user, **values)
        return Response(
            CtaSerializer(self.get_queryset().get(pk=cta.pk)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        cta = self.get_object()
        data = CtaUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        owner = values.pop("owner", None)
        if owner is not None and owner != cta.owner:
            cta = transitions.cta_reassign(cta=cta, by=request.user, owner=owner)
        transitions.cta_update(cta=cta, by=request.user, **values)
        return Response(CtaSerializer(self.get_queryset().get(pk=cta.pk)).data)

    def _run(self, serializer: type[BaseSerializer], fn: Any, **extra: Any) -> Response:
        cta = self.get_object()
        data = serializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        fn(cta=cta, by=self.request.user, **data.validated_data, **extra)
        return Response(CtaSerializer(self.get_queryset().get(pk=cta.pk)).data)

    @_command(FlagSerializer, "Flag: ask for help (the area turns red, the lead is told)")
    @action(detail=True, methods=["post"])
    def flag(self, request: Request, pk: str) -> Response:
        return self._run(FlagSerializer, transitions.cta_flag)

    @_command(UnflagSerializer, "Remove the flag")
    @action(detail=True, methods=["post"])
    def unflag(self, request: Request, pk: str) -> Response:
        return self._run(UnflagSerializer, transitions.cta_unflag)

    @_command(CloseSerializer, "Close with an outcome (the measures speak again)")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._run(CloseSerializer, transitions.cta_close)

    @_command(SnoozeSerializer, "Snooze until a date (at most 90 days)")
    @action(detail=True, methods=["post"])
    def snooze(self, request: Request, pk: str) -> Response:
        return self._run(SnoozeSerializer, transitions.cta_snooze)

    @extend_schema(
        request=CommentInSerializer,
        responses={201: CommentSerializer, **ERRORS},
        summary="Comment; @username mentions notify at once",
    )
    @action(detail=True, methods=["post"])
    def comment(self, request: Request, pk: str) -> Response:
        cta = self.get_object()
        data = CommentInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = chatter.comment_add(cta=cta, by=request.user, **data.validated_data)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: CommentSerializer(many=True), **ERRORS})
    @action(detail=True, methods=["get"])
    def comments(self, request: Request, pk: str) -> Response:
        cta = self.get_object()
        page = self.paginate_queryset(
            cta.comments.select_related("author").prefetch_related("mentions")
        )
        return self.get_paginated_response(CommentSerializer(page, many=True).data)


class PlaybookViewSet(viewsets.ReadOnlyModelViewSet):
    """Playbooks (edited in the admin)."""

    serializer_class = PlaybookSerializer
    queryset = Playbook.objects.prefetch_related("steps").order_by("name")
    lookup_value_regex = r"[0-9]+"
