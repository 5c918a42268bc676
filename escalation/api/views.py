from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from csrisk import clock
from escalation import selectors
from escalation.api.serializers import (
    AcknowledgeSerializer,
    AgendaQuerySerializer,
    AgendaReviewInSerializer,
    AgendaSerializer,
    DismissSerializer,
    EscalateSerializer,
    EscalationSerializer,
    MeetingSerializer,
    ResolveSerializer,
)
from escalation.filtersets import EscalationFilterSet
from escalation.models import Escalation, EscalationStep, Meeting, Suggestion
from escalation.services import agendas, levels, suggestions

ERRORS = {
    400: {"description": "Invalid input, or not allowed now (e.g. already resolved)."},
    401: {"description": "No or invalid credentials."},
    403: {"description": "Not allowed (e.g. a CSM escalating to level 3)."},
    404: {"description": "No such escalation."},
}


def _command(serializer: Any, summary: str) -> Any:
    return extend_schema(
        request=serializer, responses={200: EscalationSerializer, **ERRORS}, summary=summary
    )


@extend_schema_view(
    list=extend_schema(responses={200: EscalationSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: EscalationSerializer, **ERRORS}),
)
class EscalationViewSet(viewsets.ReadOnlyModelViewSet):
    """Escalations (open ones by default order: oldest deadline first). Flag a CTA to open
    one (`POST /api/v1/ctas/{id}/flag/`); move it with the commands below."""

    serializer_class = EscalationSerializer
    filterset_class = EscalationFilterSet
    lookup_value_regex = r"[0-9]+"
    ordering_fields = ["deadline_at", "opened_at", "level"]
    ordering = ["deadline_at", "id"]

    def get_queryset(self) -> QuerySet[Escalation]:
        return Escalation.objects.select_related(
            "cta__owner", "account", "opened_by", "acknowledged_by", "resolved_by"
        ).prefetch_related(
            Prefetch("steps", queryset=EscalationStep.objects.select_related("by")),
            Prefetch("suggestions", queryset=Suggestion.objects.select_related("decided_by")),
        )

    def _fresh(self, escalation: Escalation) -> Response:
        return Response(EscalationSerializer(self.get_queryset().get(pk=escalation.pk)).data)

    def _input(self, serializer: Any) -> dict[str, Any]:
        data = serializer(data=self.request.data)
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    @_command(EscalateSerializer, "Escalate to a higher level (2: VP of CS, 3: CEO)")
    @action(detail=True, methods=["post"])
    def escalate(self, request: Request, pk: str) -> Response:
        escalation = self.get_object()
        values = self._input(EscalateSerializer)
        levels.escalation_escalate(escalation=escalation, by=request.user, **values)
        return self._fresh(escalation)

    @_command(EscalateSerializer, "Hand back down to a lower level")
    @action(detail=True, methods=["post"], url_path="de-escalate")
    def de_escalate(self, request: Request, pk: str) -> Response:
        escalation = self.get_object()
        values = self._input(EscalateSerializer)
        levels.escalation_de_escalate(escalation=escalation, by=request.user, **values)
        return self._fresh(escalation)

    @_command(AcknowledgeSerializer, "Acknowledge at the current level (stops the deadline)")
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk: str) -> Response:
        escalation = self.get_object()
        values = self._input(AcknowledgeSerializer)
        levels.escalation_acknowledge(escalation=escalation, by=request.user, **values)
        return self._fresh(escalation)

    @_command(ResolveSerializer, "Resolve (also unflags the CTA)")
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str) -> Response:
        escalation = self.get_object()
        values = self._input(ResolveSerializer)
        levels.escalation_resolve(escalation=escalation, by=request.user, **values)
        return self._fresh(escalation)

    def _suggestion(self, escalation: Escalation, sid: str) -> Suggestion:
        return get_object_or_404(Suggestion, pk=int(sid), escalation=escalation)

    @_command(None, "Accept a suggestion: escalate to its level with its reason")
    @action(
        detail=True,
        methods=["post"],
        url_path=r"suggestions/(?P<sid>[0-9]+)/accept",
    )
    def accept_suggestion(self, request: Request, pk: str, sid: str) -> Response:
        escalation = self.get_object()
        suggestions.suggestion_accept(suggestion=self._suggestion(escalation, sid), by=request.user)
        return self._fresh(escalation)

    @_command(DismissSerializer, "Dismiss a suggestion (recorded; not suggested again)")
    @action(
        detail=True,
        methods=["post"],
        url_path=r"suggestions/(?P<sid>[0-9]+)/dismiss",
    )
    def dismiss_suggestion(self, request: Request, pk: str, sid: str) -> Response:
        escalation = self.get_object()
        values = self._input(DismissSerializer)
        suggestions.suggestion_dismiss(
            suggestion=self._suggestion(escalation, sid), by=request.user, **values
        )
        return self._fresh(escalation)


class MeetingViewSet(viewsets.ReadOnlyModelViewSet):
    """Meetings and live queues (configured in the admin) and their agendas."""

    serializer_class = MeetingSerializer
    queryset = Meeting.objects.filter(active=True).order_by("position", "name")
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    @extend_schema(
        parameters=[OpenApiParameter("date", str, description="YYYY-MM-DD; default: next")],
        responses={200: AgendaSerializer, **ERRORS},
        summary="The agenda of a meeting for a date (a live queue: its current items)",
    )
    @action(detail=True, methods=["get"])
    def agenda(self, request: Request, slug: str) -> Response:
        meeting = self.get_object()
        query = AgendaQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        date = query.validated_data.get("date") or selectors.meeting_date(meeting, clock.today())
        items = selectors.agenda(meeting, date)
        return Response(AgendaSerializer({"meeting": meeting, "date": date, "items": items}).data)

    @extend_schema(
        request=AgendaReviewInSerializer,
        responses={200: AgendaSerializer, **ERRORS},
        summary="Record the outcome and next step of one agenda item (marks it reviewed)",
    )
    @action(detail=True, methods=["post"])
    def review(self, request: Request, slug: str) -> Response:
        meeting = self.get_object()
        data = AgendaReviewInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        items = selectors.agenda(meeting, values["date"])
        item = next((i for i in items if i.key == values["item"]), None)
        if item is None:
            raise NotFound("That item is not on this agenda.")
        item.review = agendas.agenda_review(
            meeting=meeting,
            date=values["date"],
            item=item,
            by=request.user,
            outcome=values["outcome"],
            next_step=values["next_step"],
        )
        return Response(
            AgendaSerializer({"meeting": meeting, "date": values["date"], "items": items}).data
        )
