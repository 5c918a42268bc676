from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ctas.api.serializers import CtaSerializer
from sponsors import services
from sponsors.api.serializers import (
    AssignSerializer,
    CheckInLogSerializer,
    CheckInSerializer,
    EndSerializer,
    HelpRequestInSerializer,
    ProgramSerializer,
    SponsorshipSerializer,
)
from sponsors.filtersets import CheckInFilterSet, SponsorshipFilterSet
from sponsors.models import CheckIn, Program, Sponsorship

ERRORS = {
    400: {"description": "Invalid input, or refused (e.g. over capacity), with the reason."},
    401: {"description": "No or invalid credentials."},
    403: {"description": "Not allowed (e.g. a CSM assigning a sponsor)."},
    404: {"description": "Not found."},
}


def _input(serializer: Any, request: Request) -> dict[str, Any]:
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return dict(data.validated_data)


class ProgramViewSet(viewsets.ReadOnlyModelViewSet):
    """Program periods (edited in the admin)."""

    serializer_class = ProgramSerializer
    queryset = Program.objects.order_by("-starts_on")
    lookup_value_regex = r"[0-9]+"


@extend_schema_view(
    list=extend_schema(responses={200: SponsorshipSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: SponsorshipSerializer, **ERRORS}),
    create=extend_schema(
        request=AssignSerializer,
        responses={201: SponsorshipSerializer, **ERRORS},
        summary="Assign (or reassign) an account's sponsor; refused over capacity unless a "
        "VP sets force",
    ),
)
class SponsorshipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sponsorships, current and past (`?current=true`, `?account=`, `?sponsor=`)."""

    serializer_class = SponsorshipSerializer
    filterset_class = SponsorshipFilterSet
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Sponsorship]:
        return Sponsorship.objects.select_related("account", "sponsor", "assigned_by").order_by(
            "-started_on", "-pk"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values = _input(AssignSerializer, request)
        sponsorship = services.sponsorship_assign(by=request.user, **values)
        return Response(SponsorshipSerializer(sponsorship).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndSerializer, responses={200: SponsorshipSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str) -> Response:
        sponsorship = self.get_object()
        values = _input(EndSerializer, request)
        ended = services.sponsorship_end(sponsorship=sponsorship, by=request.user, **values)
        return Response(SponsorshipSerializer(ended).data)

    @extend_schema(
        request=HelpRequestInSerializer,
        responses={201: CtaSerializer, **ERRORS},
        summary="Ask an account's sponsor for help (a CTA for the sponsor)",
    )
    @action(detail=False, methods=["post"], url_path="help")
    def help(self, request: Request) -> Response:
        values = _input(HelpRequestInSerializer, request)
        help_request = services.help_request_create(by=request.user, **values)
        return Response(CtaSerializer(help_request.cta).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(responses={200: CheckInSerializer(many=True), **ERRORS}),
    retrieve=extend_schema(responses={200: CheckInSerializer, **ERRORS}),
)
class CheckInViewSet(viewsets.ReadOnlyModelViewSet):
    """Sponsor check-ins (`?sponsor=`, `?account=`, `?logged=true|false`)."""

    serializer_class = CheckInSerializer
    filterset_class = CheckInFilterSet
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[CheckIn]:
        return CheckIn.objects.select_related("cta__owner", "logged_by").order_by("-due_date", "pk")

    @extend_schema(request=CheckInLogSerializer, responses={200: CheckInSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def log(self, request: Request, pk: str) -> Response:
        checkin = self.get_object()
        values = _input(CheckInLogSerializer, request)
        logged = services.checkin_log(checkin=checkin, by=request.user, **values)
        return Response(CheckInSerializer(logged).data)

    @extend_schema(request=None, responses={201: CtaSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path=r"risks/(?P<index>[0-9]+)/open")
    def open_risk(self, request: Request, pk: str, index: str) -> Response:
        checkin = self.get_object()
        cta = services.checkin_open_risk(checkin=checkin, index=int(index), by=request.user)
        return Response(CtaSerializer(cta).data, status=status.HTTP_201_CREATED)
